// Package contract defines sofpipe's input datasets: for each one its columns, their types,
// which are required, the values they allow, the natural key, the lake partition and the
// row rules. It is pure data and validation logic: no I/O, no CSV, no Arrow.
//
// Column names here are canonical. Source profiles (package config) map a department's own
// headers onto them; everything downstream of decoding speaks only these names.
package contract

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the logical type of a column.
type Type int

// The column types a contract can declare.
const (
	String        Type = iota // free text, kept as read (trimmed)
	Enum                      // one of Column.Allowed, stored lower-case
	Int                       // whole number within [Min, Max]
	Float                     // decimal number, stored as DOUBLE
	Money                     // pounds and pence, stored as DECIMAL(18,2)
	Date                      // calendar date, stored as DATE
	FinancialYear             // "2023-24", stored as text
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Enum:
		return "enum"
	case Int:
		return "int"
	case Float:
		return "float"
	case Money:
		return "money"
	case Date:
		return "date"
	case FinancialYear:
		return "financial_year"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Column is one canonical column of a dataset.
type Column struct {
	Name     string
	Type     Type
	Required bool
	Allowed  []string // Enum only: the allowed values in their canonical spelling; matched case-insensitively
	Min, Max int64    // Int only: inclusive bounds
	// Derived columns are filled by the ingest from other columns (spend's financial_year
	// and period from payment_date) and may also be given directly.
	Derived bool
}

// Dataset is the contract of one input dataset.
type Dataset struct {
	Name    string
	Columns []Column
	// Key is the natural key: a later file with rows for the same key supersedes the
	// earlier file's rows for it.
	Key []string
	// PartitionBy names the column whose value becomes a Hive partition folder in the lake
	// (lake/spend/financial_year=2023-24/); empty for unpartitioned datasets.
	PartitionBy string
}

// Column returns the named column's index, or -1.
func (d *Dataset) Column(name string) int {
	for i, c := range d.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// ColumnNames returns the canonical column names in contract order.
func (d *Dataset) ColumnNames() []string {
	out := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		out[i] = c.Name
	}
	return out
}

// Lineage column names added to every lake row.
const (
	LineageFileSHA256 = "_file_sha256"
	LineageSourceLine = "_source_line"
	LineageBatchID    = "_batch_id"
)

// Dataset names.
const (
	Projects     = "projects"
	Spend        = "spend"
	Outcomes     = "outcomes"
	Lessons      = "lessons"
	GDPDeflators = "gdp_deflators"
)

var datasets = []*Dataset{
	{
		Name: Projects,
		Key:  []string{"project_id"},
		Columns: []Column{
			{Name: "project_id", Type: String, Required: true},
			{Name: "project_name", Type: String, Required: true},
			{Name: "sof_round", Type: Int, Required: true, Min: 1, Max: 3},
			{Name: "lead_department", Type: String, Required: true},
			{Name: "partner_departments", Type: String},
			{Name: "policy_area", Type: String, Required: true},
			{Name: "cross_cutting_outcome", Type: String},
			{Name: "delivery_model", Type: String},
			{Name: "start_date", Type: Date, Required: true},
			{Name: "end_date", Type: Date},
			{Name: "allocation_gbp", Type: Money},
			{Name: "evaluation_design", Type: Enum, Allowed: []string{"rct", "did", "matching", "pre_post", "none"}},
			{Name: "sms_planned", Type: Int, Min: 1, Max: 5},
		},
	},
	{
		Name:        Spend,
		Key:         []string{"project_id", "department", "financial_year", "period", "budget_type", "line_ref"},
		PartitionBy: "financial_year",
		Columns: []Column{
			{Name: "project_id", Type: String, Required: true},
			{Name: "department", Type: String, Required: true},
			{Name: "financial_year", Type: FinancialYear, Required: true, Derived: true},
			{Name: "period", Type: Int, Required: true, Min: 1, Max: 12, Derived: true},
			{Name: "payment_date", Type: Date},
			{Name: "budget_type", Type: Enum, Required: true, Allowed: []string{"RDEL", "CDEL"}},
			{Name: "planned_gbp", Type: Money},
			{Name: "actual_gbp", Type: Money, Required: true},
			{Name: "line_ref", Type: String},
			{Name: "supplier", Type: String},
			{Name: "description", Type: String},
		},
	},
	{
		Name: Outcomes,
		Key:  []string{"project_id", "outcome_id", "period_end"},
		Columns: []Column{
			{Name: "project_id", Type: String, Required: true},
			{Name: "outcome_id", Type: String, Required: true},
			{Name: "outcome_name", Type: String},
			{Name: "domain", Type: String},
			{Name: "unit", Type: String},
			{Name: "direction", Type: Enum, Required: true, Allowed: []string{"higher_better", "lower_better"}},
			{Name: "period_end", Type: Date, Required: true},
			{Name: "baseline", Type: Float},
			{Name: "target", Type: Float},
			{Name: "actual", Type: Float},
			{Name: "effect_estimate", Type: Float},
			{Name: "ci_low", Type: Float},
			{Name: "ci_high", Type: Float},
			{Name: "sms_level", Type: Int, Min: 1, Max: 5},
			{Name: "evaluation_type", Type: Enum, Allowed: []string{"process", "impact", "economic"}},
			{Name: "benefit_gbp", Type: Money},
		},
	},
	{
		Name: Lessons,
		Key:  []string{"project_id", "lesson_id"},
		Columns: []Column{
			{Name: "project_id", Type: String, Required: true},
			{Name: "lesson_id", Type: String, Required: true},
			{Name: "reported_on", Type: Date, Required: true},
			{Name: "theme", Type: Enum, Required: true, Allowed: []string{"structures", "priorities", "spending", "data_sharing", "culture", "best_practice"}},
			{Name: "polarity", Type: Enum, Required: true, Allowed: []string{"enabler", "barrier"}},
			{Name: "lesson", Type: String, Required: true},
		},
	},
	{
		Name: GDPDeflators,
		Key:  []string{"financial_year"},
		Columns: []Column{
			{Name: "financial_year", Type: FinancialYear, Required: true},
			{Name: "index", Type: Float, Required: true},
			{Name: "vintage", Type: String},
			{Name: "source", Type: String},
		},
	},
}

// All returns every dataset contract in a fixed order.
func All() []*Dataset { return datasets }

// Lookup returns the named dataset's contract.
func Lookup(name string) (*Dataset, bool) {
	for _, d := range datasets {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

// Names returns the dataset names, sorted.
func Names() []string {
	out := make([]string, len(datasets))
	for i, d := range datasets {
		out[i] = d.Name
	}
	sort.Strings(out)
	return out
}

// NormalizeHeader folds a header cell for matching: lower case, and every run of
// characters other than letters and digits becomes one underscore, trimmed at the ends.
// "Supplier Postcode " and "supplier-postcode" both become "supplier_postcode".
func NormalizeHeader(h string) string {
	var b strings.Builder
	pendingSep := false
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if pendingSep && b.Len() > 0 {
				b.WriteByte('_')
			}
			pendingSep = false
			b.WriteRune(r)
			continue
		}
		if r > 127 && r != '£' && r != '\ufeff' {
			if pendingSep && b.Len() > 0 {
				b.WriteByte('_')
			}
			pendingSep = false
			b.WriteRune(r)
			continue
		}
		pendingSep = true
	}
	return b.String()
}
