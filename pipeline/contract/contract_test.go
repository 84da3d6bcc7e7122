package contract

import "testing"

func TestNormalizeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"Supplier Postcode ":   "supplier_postcode",
		"  PROJECT-ID":         "project_id",
		"Departmental Family":  "departmental_family",
		"actual_gbp":           "actual_gbp",
		"Actual (£)":           "actual",
		"\ufeffproject_id":     "project_id",
		"Transaction  Number.": "transaction_number",
		"":                     "",
	} {
		if got := NormalizeHeader(in); got != want {
			t.Errorf("NormalizeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContractsAreConsistent(t *testing.T) {
	for _, ds := range All() {
		seen := map[string]bool{}
		for _, c := range ds.Columns {
			if seen[c.Name] {
				t.Errorf("%s: column %s twice", ds.Name, c.Name)
			}
			seen[c.Name] = true
			if NormalizeHeader(c.Name) != c.Name {
				t.Errorf("%s: column %q is not in normalised form, so no header could match it", ds.Name, c.Name)
			}
			if c.Type == Enum && len(c.Allowed) == 0 {
				t.Errorf("%s.%s: enum without allowed values", ds.Name, c.Name)
			}
		}
		for _, k := range ds.Key {
			if !seen[k] {
				t.Errorf("%s: key column %s is not a column", ds.Name, k)
			}
		}
		if ds.PartitionBy != "" && !seen[ds.PartitionBy] {
			t.Errorf("%s: partition column %s is not a column", ds.Name, ds.PartitionBy)
		}
		if got, ok := Lookup(ds.Name); !ok || got != ds {
			t.Errorf("Lookup(%q) failed", ds.Name)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup of an unknown dataset succeeded")
	}
}
