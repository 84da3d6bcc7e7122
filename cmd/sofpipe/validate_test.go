package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// writeReturn writes a return under dir/rel and returns its path.
func writeReturn(t *testing.T, dir, rel string, data string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const validateHeader = "project_id,department,financial_year,period,budget_type,actual_gbp\n"

func TestValidateText(t *testing.T) {
	dir := t.TempDir()
	good := writeReturn(t, dir, "spend/good.csv", validateHeader+"SOF-1,DfE,2023-24,1,RDEL,\"£1,234.50\"\nSOF-1,DfE,2023-24,2,RDEL,(12.00)\n")
	bad := writeReturn(t, dir, "spend/bad.csv", validateHeader+
		"SOF-1,DfE,2023-24,1,RDEL,1\n"+
		"SOF-1,DfE,2023-24,1,RDEL,12a\n"+
		"SOF-1,DfE,2023-24,1\n"+
		"SOF-1,DfE,2023-24,2,RDEL,2\n"+
		"SOF-1,DfE,2023-24,3,RDEL,3\n")

	code, stdout, stderr := runCLI(t, "validate", good)
	if code != ExitOK || stdout != good+": accepted (dataset spend, 2 rows read, 2 accepted, 0 rejected)\n" {
		t.Errorf("good file: code %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, _ = runCLI(t, "validate", bad)
	want := bad + ":3:actual_gbp: bad_money: actual_gbp: amount \"12a\" is not an amount of money: write pounds and pence, such as 1234.50, £1,234.50, -£1,234.50 or (1,234.50)\n" +
		bad + ":4: ragged_row: row has 4 fields, the header has 6: a field is missing or a delimiter was lost; give every row one field per header column\n" +
		bad + ": accepted in part: 2 rows would be rejected (dataset spend, 5 rows read, 3 accepted, 2 rejected; first: bad_money at line 3)\n"
	if code != ExitInvalid {
		t.Errorf("bad file: exit %d, want %d", code, ExitInvalid)
	}
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("bad file output (-want +got):\n%s", diff)
	}

	// One bad file among good ones fails the whole call, and every file is reported.
	code, stdout, _ = runCLI(t, "validate", good, bad)
	if code != ExitInvalid || !strings.Contains(stdout, good+": accepted") || !strings.Contains(stdout, bad+": accepted in part") {
		t.Errorf("good and bad: exit %d, stdout %q", code, stdout)
	}

	// Nothing is ingested: no workspace, no Parquet, the files untouched.
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if diff := cmp.Diff([]string{bad, good}, files); diff != "" {
		t.Errorf("validate wrote files (-want +got):\n%s", diff)
	}
}

func TestValidateWholeFileAndQuarantine(t *testing.T) {
	dir := t.TempDir()
	empty := writeReturn(t, dir, "spend/empty.csv", "")
	missing := writeReturn(t, dir, "spend/missing.csv", "project_id,department,financial_year,period,budget_type\nSOF-1,DfE,2023-24,1,RDEL\n")
	wrong := writeReturn(t, dir, "spend/wrong.csv", validateHeader+"SOF-1,DfE,2023-24,1,RDEL,1\nSOF-1,DfE,2023-24,1,XDEL,1\nSOF-1,DfE,2023-24,1,RDEL,x\n")

	code, stdout, _ := runCLI(t, "validate", empty)
	if code != ExitInvalid || stdout != empty+": empty_file: file rejected: the file is empty: no header row\n" {
		t.Errorf("empty: exit %d, stdout %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "validate", missing)
	if code != ExitInvalid || !strings.HasPrefix(stdout, missing+": missing_columns: file rejected: the header lacks required column(s) actual_gbp") {
		t.Errorf("missing column: exit %d, stdout %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "validate", wrong)
	wantLines := []string{
		wrong + ":3:budget_type: not_allowed: budget_type \"XDEL\" is not one of RDEL, CDEL",
		wrong + ":4:actual_gbp: bad_money: ",
		wrong + ": would be quarantined: row is valid, but 2 of the file's 3 rows were rejected (more than 50%)",
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != ExitInvalid || len(lines) != len(wantLines) {
		t.Fatalf("quarantined: exit %d, stdout %q", code, stdout)
	}
	for i, w := range wantLines {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("quarantined line %d: %q, want it to start %q", i+1, lines[i], w)
		}
	}
}

func TestValidateJSON(t *testing.T) {
	dir := t.TempDir()
	// Windows-1252 and CR-only, as a department's spreadsheet saves it.
	p := writeReturn(t, dir, "spend/cp1252.csv", "project_id,department,payment_date,budget_type,actual_gbp\r"+
		"SOF-1,DfE,02-Nov-10,RDEL,\"\xA31,000.00\"\r"+
		"SOF-1,DfE,12/31/2024,RDEL,\xA32.00\r"+
		"SOF-1,DfE,01/02/12,RDEL,\"-\xA33.00\"\r")
	code, stdout, stderr := runCLI(t, "validate", "--format", "json", p)
	if code != ExitInvalid {
		t.Errorf("exit %d, want %d (stderr %q)", code, ExitInvalid, stderr)
	}
	var got []fileReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v in %q", err, stdout)
	}
	want := []fileReport{{
		File: p, Dataset: "spend", Accepted: false, Status: "ingested", Encoding: "windows-1252",
		RowsRead: 3, RowsAccepted: 2, RowsRejected: 1, HeaderLine: 1,
		Problems: []ingest.Reject{{
			Line: 3, Column: "payment_date", Reason: ingest.ReasonBadDate,
			Message: `payment_date: date "12/31/2024" is not a valid day/month/year (UK order); it looks like month/day/year, the US order, which sofpipe never assumes`,
			Raw:     "SOF-1,DfE,12/31/2024,RDEL,£2.00",
		}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}

	// A clean file: accepted, an empty problems list (not null), exit 0.
	clean := writeReturn(t, dir, "spend/clean.csv", validateHeader+"SOF-1,DfE,2023-24,1,RDEL,1\n")
	code, stdout, _ = runCLI(t, "validate", "-format", "json", clean)
	if code != ExitOK || !strings.Contains(stdout, `"accepted": true`) || !strings.Contains(stdout, `"problems": []`) {
		t.Errorf("clean: exit %d, stdout %s", code, stdout)
	}
}

// TestValidateWithProfile checks a return through a profile from the config, by name and by
// the profile's pattern matching the file's path.
func TestValidateWithProfile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join("..", "..", "deploy", "profiles", "spend-over-25k.json")
	p := writeReturn(t, dir, "spend-over-25k/hmt.csv", "Department Family,Entity,Date,Expense Type,Expense Area,Supplier,Transaction Number,Amount,Additional Narrative\r"+
		"HM Treasury,HM Treasury,02-Nov-10,Fee,Financial Stability,UK FINANCIAL INVESTMENTS LTD,88603,\"\xA3102,000.00\",Management Fee\r")
	for _, args := range [][]string{
		{"validate", "--config", cfg, "--profile", "spend-over-25k", p},
		{"validate", "--config", cfg, p}, // the pattern spend-over-25k/*.csv matches the path's tail
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != ExitOK || stdout != p+": accepted (dataset spend, 1 rows read, 1 accepted, 0 rejected)\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	// Without the profile the same file lacks every canonical column.
	code, stdout, _ := runCLI(t, "validate", "--dataset", "spend", p)
	if code != ExitInvalid || !strings.Contains(stdout, "missing_columns") {
		t.Errorf("no profile: exit %d, stdout %q", code, stdout)
	}
}

func TestValidateUsage(t *testing.T) {
	dir := t.TempDir()
	p := writeReturn(t, dir, "misc/x.csv", validateHeader)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"validate"}, "usage: sofpipe validate"},
		{[]string{"validate", "--format", "xml", p}, "text or json"},
		{[]string{"validate", p}, "cannot tell the dataset"},
		{[]string{"validate", "--dataset", "nonsense", p}, "cannot tell the dataset"},
		{[]string{"validate", "--profile", "nope", p}, `no profile named "nope"`},
		{[]string{"validate", "--no-such-flag", p}, "flag provided but not defined"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, ExitUsage, tc.msg)
		}
	}
	if code, _, _ := runCLI(t, "validate", "--dataset", "spend", p); code != ExitOK {
		t.Errorf("--dataset spend on a header-only file: exit %d, want %d", code, ExitOK)
	}
}

// TestValidateCapsTheListNotTheCounts: a file with many bad rows lists at most
// -max-problems of them, while the counts stay exact.
func TestValidateCapsTheListNotTheCounts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spend", "bad.csv")
	os.MkdirAll(filepath.Dir(path), 0o755)
	body := "project_id,department,financial_year,period,budget_type,actual_gbp\n" + strings.Repeat("SOF-1,DfE,2023-24,13,RDEL,1\n", 50) + strings.Repeat("SOF-1,DfE,2023-24,1,RDEL,1\n", 100)
	os.WriteFile(path, []byte(body), 0o644)
	code, stdout, _ := runCLI(t, "validate", "-max-problems", "5", path)
	if code != ExitInvalid {
		t.Errorf("code %d, want %d", code, ExitInvalid)
	}
	if n := strings.Count(stdout, ": out_of_range:"); n != 5 {
		t.Errorf("%d problems listed, want 5:\n%s", n, stdout)
	}
	if !strings.Contains(stdout, "45 more rejected rows not listed") || !strings.Contains(stdout, "150 rows read, 100 accepted, 50 rejected") {
		t.Errorf("counts or note missing:\n%s", stdout)
	}
}

// A folder is checked file by file, each with one line saying what would become of it
// (with its counts and first reason) and totals at the end whose rows add up.
func TestValidateFolder(t *testing.T) {
	dir := t.TempDir()
	writeReturn(t, dir, "returns/a-good.csv", "Spend over £25,000\nMay 2024,,\n"+validateHeader+"SOF-1,DfE,2023-24,1,RDEL,1\n")
	writeReturn(t, dir, "returns/b-part.csv", validateHeader+"SOF-1,DfE,2023-24,1,RDEL,1\nSOF-1,DfE,2023-24,1,RDEL,$5\nSOF-1,DfE,2023-24,2,RDEL,2\n")
	writeReturn(t, dir, "returns/c-wrong.csv", validateHeader+"SOF-1,DfE,2023-24,1,XDEL,1\nSOF-1,DfE,2023-24,1,XDEL,1\n")
	writeReturn(t, dir, "returns/d-nohead.csv", "a,b\n1,2\n")
	writeReturn(t, dir, "returns/.hidden.csv", "not a return")
	code, stdout, stderr := runCLI(t, "validate", "--dataset", "spend", filepath.Join(dir, "returns"))
	if code != ExitInvalid {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	r := filepath.Join(dir, "returns")
	for _, want := range []string{
		r + "/a-good.csv: accepted (dataset spend, 1 rows read, 1 accepted, 0 rejected; header on line 3)\n",
		r + "/b-part.csv: accepted in part: 1 rows would be rejected (dataset spend, 3 rows read, 2 accepted, 1 rejected; first: foreign_currency at line 3)\n",
		r + "/c-wrong.csv: would be quarantined: ",
		r + "/d-nohead.csv: missing_columns: file rejected: ",
		"4 files: 1 accepted, 1 accepted in part, 1 quarantined, 1 rejected; rows read 6 = 3 accepted + 3 rejected\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, ".hidden") {
		t.Errorf("a hidden file was checked:\n%s", stdout)
	}
}

// TestValidateFolderWithAFileOfNoDataset: one file no profile or folder places is said
// for that file; the others are still checked (the review found the whole folder given up).
func TestValidateFolderWithAFileOfNoDataset(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "fixtures", "golden", "inbox", "spend"), filepath.Join(dir, "spend"))
	os.MkdirAll(filepath.Join(dir, "misc"), 0o755)
	os.WriteFile(filepath.Join(dir, "misc", "notes.csv"), []byte("a,b\n1,2\n"), 0o644)
	code, stdout, stderr := runCLI(t, "validate", dir)
	if code != ExitInvalid || !strings.Contains(stdout, "notes.csv") || !strings.Contains(stdout, "3 files") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
