package ingest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// row is one lake or rejects row rendered as text: money with its two decimals (exact pence),
// dates as yyyy-mm-dd, NULL as "NULL". Only the keys a test names are compared.
type row map[string]string

// rej is what a test expects of one rejected row.
type rej struct {
	Line   int64
	Reason ingest.Reason
	Column string
}

// result is one ingest read back from the files it wrote.
type result struct {
	ingest.Result
	rows    []row           // the lake rows, by source line
	rejects []ingest.Reject // the rejects file's rows, by line
	stage   string
}

// ingestBytes writes data to a file, ingests it as dataset through profile, and reads the
// Parquet it wrote back. Every Arrow buffer, the ingest's and the read-back's, comes from a
// checked allocator that must end at zero.
func ingestBytes(t *testing.T, dataset string, data []byte, profile *config.Profile, opt ingest.Options) result {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "return.csv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return ingestPath(t, dataset, path, profile, opt)
}

func ingestPath(t *testing.T, dataset, path string, profile *config.Profile, opt ingest.Options) result {
	t.Helper()
	ds, ok := contract.Lookup(dataset)
	if !ok {
		t.Fatalf("no dataset %q", dataset)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sum := sha256.Sum256([]byte(path))
	if b, err := os.ReadFile(path); err == nil {
		sum = sha256.Sum256(b)
	}
	stage := filepath.Join(t.TempDir(), "stage")
	opt.Alloc = mem
	opt.StageDir = stage
	opt.BatchID = "test-batch"
	if opt.Workers == 0 {
		opt.Workers = 2
	}
	res, err := ingest.File(context.Background(), ingest.Input{
		Path: path, Source: "inbox/" + dataset + "/return.csv", SHA256: hex.EncodeToString(sum[:]), Dataset: ds, Profile: profile,
	}, opt)
	if err != nil {
		t.Fatalf("ingest.File: %v", err)
	}
	if res.RowsRead != res.RowsAccepted+res.RowsRejected {
		t.Errorf("rows read %d != accepted %d + rejected %d", res.RowsRead, res.RowsAccepted, res.RowsRejected)
	}
	var n int64
	for _, c := range res.RejectsByReason {
		n += c
	}
	if n != res.RowsRejected {
		t.Errorf("rejects by reason %v add up to %d, rows rejected %d", res.RejectsByReason, n, res.RowsRejected)
	}
	out := result{Result: res, stage: stage}
	for _, o := range res.Outputs {
		rows := readParquet(t, filepath.Join(stage, filepath.FromSlash(o)))
		// The partition column lives in the folder name, as Hive readers expect.
		for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(o)), "/") {
			if k, v, ok := strings.Cut(part, "="); ok {
				for _, r := range rows {
					r[k] = v
				}
			}
		}
		out.rows = append(out.rows, rows...)
	}
	sort.SliceStable(out.rows, func(i, j int) bool { return lineOf(out.rows[i]) < lineOf(out.rows[j]) })
	if int64(len(out.rows)) != res.RowsAccepted {
		t.Errorf("the lake holds %d rows, the result says %d accepted", len(out.rows), res.RowsAccepted)
	}
	if res.RejectsFile != "" {
		for _, r := range readParquet(t, filepath.Join(stage, filepath.FromSlash(res.RejectsFile))) {
			line, _ := strconv.ParseInt(r["line"], 10, 64)
			col := r["column"]
			if col == "NULL" {
				col = ""
			}
			out.rejects = append(out.rejects, ingest.Reject{Line: line, Column: col, Reason: ingest.Reason(r["reason"]), Message: r["message"], Raw: r["raw"]})
			if r["_batch_id"] != "test-batch" || r["_file_sha256"] != hex.EncodeToString(sum[:]) {
				t.Errorf("reject at line %d has lineage %q %q", line, r["_batch_id"], r["_file_sha256"])
			}
		}
		sort.SliceStable(out.rejects, func(i, j int) bool { return out.rejects[i].Line < out.rejects[j].Line })
	}
	if int64(len(out.rejects)) != res.RowsRejected {
		t.Errorf("the rejects file holds %d rows, the result says %d rejected", len(out.rejects), res.RowsRejected)
	}
	return out
}

func lineOf(r row) int64 {
	n, _ := strconv.ParseInt(r[contract.LineageSourceLine], 10, 64)
	return n
}

// readParquet reads one Parquet file into rows of text.
//
// Reading uses its own allocator, unchecked: arrow-go's DELTA_BINARY_PACKED decoder (used
// for _source_line) leaks a 64-byte block buffer per column chunk. The leak is the
// reader's, upstream; the ingest's own Arrow memory is checked by the writer's allocator.
func readParquet(t *testing.T, path string) []row {
	mem := memory.NewGoAllocator()
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	rows := make([]row, tbl.NumRows())
	for i := range rows {
		rows[i] = row{}
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		col := tbl.Column(c)
		i := 0
		for _, chunk := range col.Data().Chunks() {
			for k := 0; k < chunk.Len(); k++ {
				rows[i][col.Name()] = render(chunk, k)
				i++
			}
		}
	}
	return rows
}

func render(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	}
	return fmt.Sprintf("<%T>", a)
}

// project keeps, of each got row, the keys the wanted row at the same place names.
func project(got, want []row) []row {
	out := make([]row, len(got))
	for i, g := range got {
		out[i] = row{}
		var keys row
		if i < len(want) {
			keys = want[i]
		} else if len(want) > 0 {
			keys = want[0]
		}
		for k := range keys {
			out[i][k] = g[k]
		}
	}
	return out
}

func rejectCodes(rs []ingest.Reject) []rej {
	if len(rs) == 0 {
		return nil
	}
	out := make([]rej, len(rs))
	for i, r := range rs {
		out[i] = rej{r.Line, r.Reason, r.Column}
	}
	return out
}

// utf16Bytes encodes s as UTF-16 with a byte order mark.
func utf16Bytes(s string, order binary.ByteOrder) []byte {
	var b bytes.Buffer
	units := append([]uint16{0xFEFF}, utf16.Encode([]rune(s))...)
	for _, u := range units {
		var two [2]byte
		order.PutUint16(two[:], u)
		b.Write(two[:])
	}
	return b.Bytes()
}

const spendHeader = "project_id,department,financial_year,period,budget_type,actual_gbp"

// TestIngestForms feeds every form a messy return takes, as real bytes, through ingest.File
// and checks the exact values that reach the lake and the exact rejects.
func TestIngestForms(t *testing.T) {
	tests := []struct {
		name     string
		dataset  string
		profile  *config.Profile
		data     []byte
		opt      ingest.Options
		encoding string
		ignored  []string
		rows     []row
		rejects  []rej
	}{
		{
			name:    "UTF-8 with BOM, CRLF, every money form",
			dataset: "spend",
			data: []byte("\xEF\xBB\xBFproject_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp\r\n" +
				"SOF-1,DfE,2023-24,1,RDEL,\"£1,234.50\",1234.5\r\n" +
				"SOF-1,DfE,2023-24,2,rdel,\"(1,234.50)\",\"-£46,528.00\"\r\n" +
				"SOF-1,DfE,2023-24,3,RDEL,£-46528.00,\"£-46,528.00\"\r\n" +
				"SOF-1,DfE,2023-24,4,RDEL,,£0.05\r\n"),
			encoding: "utf-8",
			rows: []row{
				{"_source_line": "2", "project_id": "SOF-1", "financial_year": "2023-24", "period": "1", "budget_type": "RDEL", "planned_gbp": "1234.50", "actual_gbp": "1234.50"},
				{"_source_line": "3", "project_id": "SOF-1", "financial_year": "2023-24", "period": "2", "budget_type": "RDEL", "planned_gbp": "-1234.50", "actual_gbp": "-46528.00"},
				{"_source_line": "4", "project_id": "SOF-1", "financial_year": "2023-24", "period": "3", "budget_type": "RDEL", "planned_gbp": "-46528.00", "actual_gbp": "-46528.00"},
				{"_source_line": "5", "project_id": "SOF-1", "financial_year": "2023-24", "period": "4", "budget_type": "RDEL", "planned_gbp": "NULL", "actual_gbp": "0.05"},
			},
		},
		{
			name:     "UTF-8 without BOM, LF",
			dataset:  "spend",
			data:     []byte(spendHeader + ",supplier\nSOF-1,DfE,2023-24,1,RDEL,\"£2,500\",Café Ltd\n"),
			encoding: "utf-8",
			rows:     []row{{"_source_line": "2", "actual_gbp": "2500.00", "supplier": "Café Ltd"}},
		},
		{
			name:     "UTF-16LE with BOM",
			dataset:  "spend",
			data:     utf16Bytes(spendHeader+",supplier\r\nSOF-1,Home Office,2024-25,1,CDEL,\"£2,000.00\",Café Ltd\r\n", binary.LittleEndian),
			encoding: "utf-16",
			rows:     []row{{"_source_line": "2", "department": "Home Office", "budget_type": "CDEL", "actual_gbp": "2000.00", "supplier": "Café Ltd", "financial_year": "2024-25"}},
		},
		{
			name:     "UTF-16BE with BOM",
			dataset:  "spend",
			data:     utf16Bytes(spendHeader+"\nSOF-1,Home Office,2024-25,2,CDEL,\"(£7.25)\"\nSOF-1,Home Office,2024-25,2,CDEL,seven\n", binary.BigEndian),
			encoding: "utf-16",
			rows:     []row{{"_source_line": "2", "period": "2", "actual_gbp": "-7.25"}},
			rejects:  []rej{{3, ingest.ReasonBadMoney, "actual_gbp"}},
		},
		{
			name:    "Windows-1252 £ as 0xA3, detected",
			dataset: "spend",
			data: []byte(spendHeader + ",supplier\n" +
				"SOF-1,DfE,2023-24,5,RDEL,\"\xA31,234.50\",Caf\xE9 Ltd\n" +
				"SOF-1,DfE,2023-24,5,RDEL,\"-\xA346,528.00\",\x93Quoted\x94 \x80 supplier\n"),
			encoding: "windows-1252",
			rows: []row{
				{"_source_line": "2", "actual_gbp": "1234.50", "supplier": "Café Ltd"},
				{"_source_line": "3", "actual_gbp": "-46528.00", "supplier": "“Quoted” € supplier"},
			},
		},
		{
			name:     "Windows-1252 named in the profile wins over UTF-8-looking bytes",
			dataset:  "spend",
			profile:  &config.Profile{Name: "cp1252", Dataset: "spend", Pattern: "*", Encoding: "windows-1252"},
			data:     []byte(spendHeader + ",supplier\nSOF-1,DfE,2023-24,5,RDEL,\xA39.99,Caf\xC3\xA9\n"),
			encoding: "windows-1252",
			rows:     []row{{"_source_line": "2", "actual_gbp": "9.99", "supplier": "CafÃ©"}},
		},
		{
			name:     "CR-only line ends (old Mac)",
			dataset:  "spend",
			data:     []byte(spendHeader + "\rSOF-1,DfE,2023-24,6,RDEL,100\rSOF-1,DfE,2023-24,7,RDEL,12a\rSOF-1,DfE,2023-24,8,RDEL,300\r"),
			encoding: "utf-8",
			rows: []row{
				{"_source_line": "2", "period": "6", "actual_gbp": "100.00"},
				{"_source_line": "4", "period": "8", "actual_gbp": "300.00"},
			},
			rejects: []rej{{3, ingest.ReasonBadMoney, "actual_gbp"}},
		},
		{
			name:    "blank and white-space lines are skipped, lines stay physical",
			dataset: "spend",
			data:    []byte(spendHeader + "\n\nSOF-1,DfE,2023-24,9,RDEL,1\n   \n\t\nSOF-1,DfE,2023-24,10,RDEL,2\n\n"),
			rows: []row{
				{"_source_line": "3", "period": "9", "actual_gbp": "1.00"},
				{"_source_line": "6", "period": "10", "actual_gbp": "2.00"},
			},
		},
		{
			name:    "quoted delimiters, quotes and newlines; broken quoting",
			dataset: "spend",
			data: []byte(spendHeader + ",description\n" +
				"SOF-1,DfE,2023-24,11,RDEL,5,\"Mentors, tutors and \"\"coaches\"\"\"\n" +
				"SOF-1,DfE,2023-24,12,RDEL,6,\"first line\nsecond line\"\n" +
				"SOF-1,DfE,2023-24,1,RDEL,7,after\n" +
				"SOF-1,DfE,2023-24,2,RDEL,8,24\" monitor\n" +
				"SOF-1,DfE,2023-24,3,RDEL,9,after again\n" +
				"SOF-1,DfE,2023-24,3,RDEL,9,\"never closed\n"),
			rows: []row{
				{"_source_line": "2", "description": `Mentors, tutors and "coaches"`},
				{"_source_line": "3", "description": "first line\nsecond line"},
				{"_source_line": "5", "description": "after"},
				{"_source_line": "7", "description": "after again"},
			},
			rejects: []rej{{6, ingest.ReasonMalformedCSV, ""}, {8, ingest.ReasonMalformedCSV, ""}},
		},
		{
			name:    "a trailing empty column in the header and the rows",
			dataset: "spend",
			data:    []byte(spendHeader + ",\nSOF-1,DfE,2023-24,4,RDEL,10,\nSOF-1,DfE,2023-24,5,RDEL,11\n"),
			rows: []row{
				{"_source_line": "2", "actual_gbp": "10.00"},
				{"_source_line": "3", "actual_gbp": "11.00"},
			},
		},
		{
			name:    "ragged rows and a row of delimiters are rejected, not a crash",
			dataset: "spend",
			data: []byte(spendHeader + "\n" +
				"SOF-1,DfE,2023-24,6,RDEL\n" +
				"SOF-1,DfE,2023-24,6,RDEL,12,extra\n" +
				"SOF-1,DfE,2023-24,6,RDEL,13,,\n" +
				"SOF-1,DfE,2023-24,6,RDEL,14\n" +
				",,,,,\n" +
				"SOF-1,DfE,2023-24,6,RDEL,15\n" +
				"SOF-1,DfE,2023-24,6,RDEL,16\n"),
			rows: []row{
				{"_source_line": "4", "actual_gbp": "13.00"},
				{"_source_line": "5", "actual_gbp": "14.00"},
				{"_source_line": "7", "actual_gbp": "15.00"},
				{"_source_line": "8", "actual_gbp": "16.00"},
			},
			rejects: []rej{{2, ingest.ReasonRaggedRow, ""}, {3, ingest.ReasonRaggedRow, ""}, {6, ingest.ReasonBlankRow, ""}},
		},
		{
			name:    "short rows padded by the profile",
			dataset: "spend",
			profile: &config.Profile{Name: "pad", Dataset: "spend", Pattern: "*", PadShortRows: true},
			data: []byte(spendHeader + ",supplier,description\n" +
				"SOF-1,DfE,2023-24,6,RDEL,12\n" +
				"SOF-1,DfE,2023-24,6,RDEL\n" +
				"SOF-1,DfE,2023-24,6,RDEL,13,Acme,Desc,extra\n"),
			rows:    []row{{"_source_line": "2", "actual_gbp": "12.00", "supplier": "NULL", "description": "NULL"}},
			opt:     ingest.Options{RejectRateLimit: 1},
			rejects: []rej{{3, ingest.ReasonMissingRequired, "actual_gbp"}, {4, ingest.ReasonRaggedRow, ""}},
		},
		{
			name:    "dates in UK order, never US; payment_date derives year and period",
			dataset: "spend",
			data: []byte("project_id,department,payment_date,budget_type,actual_gbp\n" +
				"SOF-1,DfE,31/03/2024,RDEL,1\n" +
				"SOF-1,DfE,2024-03-31,RDEL,2\n" +
				"SOF-1,DfE,02-Nov-10,RDEL,3\n" +
				"SOF-1,DfE,01/02/12,RDEL,4\n" +
				"SOF-1,DfE,03-Jun-2013,RDEL,5\n" +
				"SOF-1,DfE,12/31/2024,RDEL,6\n" +
				"SOF-1,DfE,31/02/2024,RDEL,7\n" +
				"SOF-1,DfE,N/A,RDEL,8\n"),
			rows: []row{
				{"_source_line": "2", "payment_date": "2024-03-31", "financial_year": "2023-24", "period": "12"},
				{"_source_line": "3", "payment_date": "2024-03-31", "financial_year": "2023-24", "period": "12"},
				{"_source_line": "4", "payment_date": "2010-11-02", "financial_year": "2010-11", "period": "8"},
				{"_source_line": "5", "payment_date": "2012-02-01", "financial_year": "2011-12", "period": "11"},
				{"_source_line": "6", "payment_date": "2013-06-03", "financial_year": "2013-14", "period": "3"},
			},
			rejects: []rej{{7, ingest.ReasonBadDate, "payment_date"}, {8, ingest.ReasonBadDate, "payment_date"}, {9, ingest.ReasonMissingRequired, "financial_year"}},
		},
		{
			name:    "N/A, - , null and empty are null where the column allows it",
			dataset: "spend",
			data: []byte("project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref,supplier\n" +
				"SOF-1,DfE,2023-24,1,RDEL,N/A,10,-,\n" +
				"SOF-1,DfE,2023-24,1,RDEL,-,11,n/a,null\n" +
				"SOF-1,DfE,2023-24,1,RDEL,,N/A,,\n" +
				"SOF-1,DfE,2023-24,1,RDEL,  ,12, NA ,\n"),
			rows: []row{
				{"_source_line": "2", "planned_gbp": "NULL", "actual_gbp": "10.00", "line_ref": "NULL", "supplier": "NULL"},
				{"_source_line": "3", "planned_gbp": "NULL", "actual_gbp": "11.00", "line_ref": "NULL", "supplier": "NULL"},
				{"_source_line": "5", "planned_gbp": "NULL", "actual_gbp": "12.00", "line_ref": "NULL", "supplier": "NULL"},
			},
			rejects: []rej{{4, ingest.ReasonMissingRequired, "actual_gbp"}},
		},
		{
			name:     "headers match ignoring case, spaces and punctuation",
			dataset:  "spend",
			data:     []byte("\" Project ID \",DEPARTMENT,Financial-Year,Period.,budget type,Actual (GBP),  Line_Ref  ,Supplier Name\nSOF-1,DfE,2023-24,2,RDEL,15,LR-1,Acme\n"),
			ignored:  []string{"Supplier Name"},
			rows:     []row{{"_source_line": "2", "project_id": "SOF-1", "department": "DfE", "financial_year": "2023-24", "period": "2", "actual_gbp": "15.00", "line_ref": "LR-1", "supplier": "NULL"}},
			encoding: "utf-8",
		},
		{
			name:    "every row-level reason code of spend",
			dataset: "spend",
			// line 11 is the largest amount the lake holds, taken in when the per-line
			// maximum is at its limit (amount_test.go tests the default one)
			opt: ingest.Options{RejectRateLimit: 1, MaxAmountGBP: config.MaxAmountGBPLimit},
			data: []byte("project_id,department,financial_year,period,payment_date,budget_type,actual_gbp\n" +
				",DfE,2023-24,1,,RDEL,1\n" +
				"SOF-1,DfE,2023-24,1,,XDEL,1\n" +
				"SOF-1,DfE,2023-24,13,,RDEL,1\n" +
				"SOF-1,DfE,2023-24,P3,,RDEL,1\n" +
				"SOF-1,DfE,2023-25,1,,RDEL,1\n" +
				"SOF-1,DfE,2023-24,1,15/05/2023,RDEL,1\n" +
				"SOF-1,DfE,2023-24,1,,RDEL,12.345\n" +
				"SOF-1,DfE,2023-24,1,,RDEL,99999999999999999\n" +
				"SOF-1,DfE,2023-24,1,,RDEL,12.340\n" +
				"SOF-1,DfE,2023-24,1,15/04/2023,cdel,\"9,999,999,999,999,999.99\"\n"),
			rows: []row{
				{"_source_line": "10", "actual_gbp": "12.34", "payment_date": "NULL", "period": "1"},
				{"_source_line": "11", "actual_gbp": "9999999999999999.99", "payment_date": "2023-04-15", "budget_type": "CDEL"},
			},
			rejects: []rej{
				{2, ingest.ReasonMissingRequired, "project_id"},
				{3, ingest.ReasonNotAllowed, "budget_type"},
				{4, ingest.ReasonOutOfRange, "period"},
				{5, ingest.ReasonBadInt, "period"},
				{6, ingest.ReasonBadFinancialYear, "financial_year"},
				{7, ingest.ReasonPeriodMismatch, "payment_date"},
				{8, ingest.ReasonMoneyPrecision, "actual_gbp"},
				{9, ingest.ReasonMoneyOverflow, "actual_gbp"},
			},
		},
		{
			name:    "projects: enums, ranges, dates and end before start",
			dataset: "projects",
			opt:     ingest.Options{RejectRateLimit: 1},
			data: []byte("project_id,project_name,sof_round,lead_department,policy_area,start_date,end_date,evaluation_design,sms_planned,allocation_gbp\n" +
				"P1,Name,1,DfE,Education,01/04/2024,31/03/2026,RCT,3,\"£1,000,000.00\"\n" +
				"P2,Name,1,DfE,Education,01/04/2024,31/03/2023,rct,3,\n" +
				"P3,Name,two,DfE,Education,01/04/2024,,rct,3,\n" +
				"P4,Name,1,DfE,Education,01/04/2024,-,xyz,3,\n" +
				"P5,Name,1,DfE,Education,01/04/2024,N/A,none,6,\n" +
				"P6,Name,1,DfE,Education,2024-13-01,,none,,\n" +
				"P7,Name,3,DfE,Education,1 Apr 2024,,,N/A,-\n"),
			rows: []row{
				{"_source_line": "2", "project_id": "P1", "start_date": "2024-04-01", "end_date": "2026-03-31", "evaluation_design": "rct", "sms_planned": "3", "allocation_gbp": "1000000.00"},
				{"_source_line": "8", "project_id": "P7", "start_date": "2024-04-01", "end_date": "NULL", "evaluation_design": "NULL", "sms_planned": "NULL", "allocation_gbp": "NULL"},
			},
			rejects: []rej{
				{3, ingest.ReasonEndBeforeStart, "end_date"},
				{4, ingest.ReasonBadInt, "sof_round"},
				{5, ingest.ReasonNotAllowed, "evaluation_design"},
				{6, ingest.ReasonOutOfRange, "sms_planned"},
				{7, ingest.ReasonBadDate, "start_date"},
			},
		},
		{
			name:    "outcomes: decimals, accountants' negatives, bad numbers",
			dataset: "outcomes",
			opt:     ingest.Options{RejectRateLimit: 1},
			data: []byte("project_id,outcome_id,direction,period_end,baseline,target,actual,ci_low,ci_high,benefit_gbp\n" +
				"P1,O1,higher_better,31/03/2024,\"1,234.5\",(1.5),1e-3,-,N/A,\"£10,000\"\n" +
				"P1,O2,Higher_Better,2024-03-31,abc,,,,,\n" +
				"P1,O3,sideways,2024-03-31,,,,,,\n"),
			rows: []row{
				{"_source_line": "2", "direction": "higher_better", "period_end": "2024-03-31", "baseline": "1234.5", "target": "-1.5", "actual": "0.001", "ci_low": "NULL", "ci_high": "NULL", "benefit_gbp": "10000.00"},
			},
			rejects: []rej{{3, ingest.ReasonBadNumber, "baseline"}, {4, ingest.ReasonNotAllowed, "direction"}},
		},
		{
			name:    "profile: aliases, a constant that wins, a default, a strict date format, a delimiter",
			dataset: "spend",
			profile: &config.Profile{
				Name: "semicolons", Dataset: "spend", Pattern: "*", Delimiter: ";", DateFormat: "02.01.2006",
				HeaderAliases: map[string]string{"Cost Centre Project": "project_id", "Paid On": "payment_date", "Net (£)": "actual_gbp", "Dept": "department", "Supplier": ""},
				Constants:     map[string]string{"department": "Ministry of Justice"},
				Defaults:      map[string]string{"budget_type": "RDEL"},
			},
			data: []byte("Cost Centre Project;Dept;Paid On;Net (£);Budget Type;Supplier;Description\n" +
				"P1;Somebody Else;15.05.2024;1234.50;;Acme;\"a; b\"\n" +
				"P1;X;01.06.2024;99;CDEL;Acme;c\n" +
				"P1;X;2024-06-01;5;;Acme;d\n"),
			ignored: []string{"Dept", "Supplier"},
			rows: []row{
				{"_source_line": "2", "department": "Ministry of Justice", "payment_date": "2024-05-15", "financial_year": "2024-25", "period": "2", "budget_type": "RDEL", "actual_gbp": "1234.50", "supplier": "NULL", "description": "a; b"},
				{"_source_line": "3", "department": "Ministry of Justice", "payment_date": "2024-06-01", "financial_year": "2024-25", "period": "3", "budget_type": "CDEL", "actual_gbp": "99.00", "supplier": "NULL", "description": "c"},
			},
			rejects: []rej{{4, ingest.ReasonBadDate, "payment_date"}},
		},
		{
			name:    "many chunks on many workers keep exact lines",
			dataset: "spend",
			opt:     ingest.Options{ChunkBytes: 64, Workers: 4, BatchRows: 3},
			data: []byte(spendHeader + "\r\n" +
				strings.Repeat("SOF-1,DfE,2023-24,1,RDEL,1.01\r\n", 5) +
				"SOF-1,DfE,2023-24,1,RDEL,bad\r\n" +
				strings.Repeat("SOF-1,DfE,2024-25,2,RDEL,2.02\r\n", 5)),
			rows: []row{
				{"_source_line": "2", "financial_year": "2023-24"}, {"_source_line": "3"}, {"_source_line": "4"}, {"_source_line": "5"}, {"_source_line": "6"},
				{"_source_line": "8", "financial_year": "2024-25", "actual_gbp": "2.02"}, {"_source_line": "9"}, {"_source_line": "10"}, {"_source_line": "11"}, {"_source_line": "12", "financial_year": "2024-25"},
			},
			rejects: []rej{{7, ingest.ReasonBadMoney, "actual_gbp"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ingestBytes(t, tc.dataset, tc.data, tc.profile, tc.opt)
			if got.Status != ingest.StatusIngested {
				t.Fatalf("status %s (%s: %s), want ingested", got.Status, got.Reason, got.Message)
			}
			if tc.encoding != "" && got.Encoding != tc.encoding {
				t.Errorf("encoding %q, want %q", got.Encoding, tc.encoding)
			}
			if tc.ignored != nil {
				if diff := cmp.Diff(tc.ignored, got.IgnoredColumns); diff != "" {
					t.Errorf("ignored columns (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tc.rows, project(got.rows, tc.rows)); diff != "" {
				t.Errorf("lake rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.rejects, rejectCodes(got.rejects)); diff != "" {
				t.Errorf("rejects (-want +got):\n%s", diff)
			}
			if got.RowsRead != int64(len(tc.rows)+len(tc.rejects)) {
				t.Errorf("rows read %d, want %d", got.RowsRead, len(tc.rows)+len(tc.rejects))
			}
			for _, r := range got.rejects {
				if r.Raw == "" || r.Message == "" {
					t.Errorf("line %d: reject without raw text or message: %+v", r.Line, r)
				}
				for _, rr := range got.rows {
					if lineOf(rr) == r.Line {
						t.Errorf("line %d is both in the lake and rejected", r.Line)
					}
				}
			}
		})
	}
}

// TestRejectCarriesRawTextAndMessage checks what a department gets back for one bad row:
// its exact text as sent (decoded), the column and a message naming the value.
func TestRejectCarriesRawTextAndMessage(t *testing.T) {
	got := ingestBytes(t, "spend", []byte(spendHeader+",description\r\n"+
		"SOF-1,DfE,2023-24,1,RDEL,1,ok\r\n"+
		"SOF-1,DfE,2023-24,1,RDEL,\"\xA312a\",\"two\r\nlines\"\r\n"+
		"SOF-1,DfE,2023-24,1,RDEL,2,ok\r\n"), nil, ingest.Options{})
	want := []ingest.Reject{{
		Line:    3,
		Column:  "actual_gbp",
		Reason:  ingest.ReasonBadMoney,
		Message: "actual_gbp: amount \"£12a\" is not an amount of money: write pounds and pence, such as 1234.50, £1,234.50, -£1,234.50 or (1,234.50)",
		Raw:     "SOF-1,DfE,2023-24,1,RDEL,\"£12a\",\"two\r\nlines\"",
	}}
	if diff := cmp.Diff(want, got.rejects); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got.FirstRejects); diff != "" {
		t.Errorf("Result.FirstRejects (-want +got):\n%s", diff)
	}
	if got := project(got.rows, []row{{"_source_line": ""}}); len(got) != 2 || got[1]["_source_line"] != "5" {
		t.Errorf("accepted rows %v, want lines 2 and 5", got)
	}
}

// TestIngestWholeFileRejects covers files that cannot be read as their dataset at all: each
// comes back rejected whole with a reason, writes nothing, and is no error.
func TestIngestWholeFileRejects(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		data    []byte
		dir     bool // the path is a folder: reading it fails
		reason  ingest.Reason
		message string // a fragment the message must hold
	}{
		{"zero bytes", "spend", []byte{}, false, ingest.ReasonEmptyFile, "empty"},
		{"a BOM and nothing else", "spend", []byte("\xEF\xBB\xBF"), false, ingest.ReasonEmptyFile, "header"},
		{"blank lines only", "spend", []byte("\r\n\r\n  \r\n"), false, ingest.ReasonEmptyFile, "header"},
		{"a spreadsheet saved as .csv", "spend", append([]byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04\x00\x00\x13\x00"), make([]byte, 200)...), false, ingest.ReasonBinaryFile, "NUL"},
		{"a required column missing", "spend", []byte("project_id,department,financial_year,period,budget_type\nSOF-1,DfE,2023-24,1,RDEL\n"), false, ingest.ReasonMissingColumns, "actual_gbp"},
		{"neither period nor payment_date", "spend", []byte("project_id,department,budget_type,actual_gbp\nSOF-1,DfE,RDEL,1\n"), false, ingest.ReasonMissingColumns, "payment_date"},
		{"two headers for one column", "spend", []byte(spendHeader + ",Actual GBP\nSOF-1,DfE,2023-24,1,RDEL,1,1\n"), false, ingest.ReasonDuplicateColumn, "actual_gbp"},
		{"a quote left open in the header", "spend", []byte("project_id,\"department,financial_year,period,budget_type,actual_gbp\n" + strings.Repeat("SOFé,DfE,2023-24,1,RDEL,1\n", 500)), false, ingest.ReasonMalformedCSV, "header row"},
		{"another dataset's file", "lessons", []byte(spendHeader + "\nSOF-1,DfE,2023-24,1,RDEL,1\n"), false, ingest.ReasonMissingColumns, "lesson_id"},
		{"not readable", "spend", nil, true, ingest.ReasonUnreadable, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "return.csv")
			var err error
			if tc.dir {
				err = os.Mkdir(path, 0o755)
			} else {
				err = os.WriteFile(path, tc.data, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ingestPath(t, tc.dataset, path, nil, ingest.Options{})
			if got.Status != ingest.StatusRejected || got.Reason != tc.reason {
				t.Fatalf("status %s reason %s (%s), want rejected %s", got.Status, got.Reason, got.Message, tc.reason)
			}
			if !strings.Contains(got.Message, tc.message) || got.Message == "" {
				t.Errorf("message %q lacks %q", got.Message, tc.message)
			}
			if len(got.Message) > 1000 || !utf8.ValidString(got.Message) {
				t.Errorf("message of %d bytes (valid UTF-8 %v): a message must stay short and whole", len(got.Message), utf8.ValidString(got.Message))
			}
			if got.RowsRead != 0 || len(got.Outputs) != 0 || got.RejectsFile != "" {
				t.Errorf("a rejected file read %d rows, wrote %v and %q", got.RowsRead, got.Outputs, got.RejectsFile)
			}
			if files := filesUnder(t, got.stage); len(files) != 0 {
				t.Errorf("a rejected file left %v", files)
			}
		})
	}
}

// TestHeaderOnlyFileIsIngested: a return with a header and no rows is a valid, empty return.
func TestHeaderOnlyFileIsIngested(t *testing.T) {
	got := ingestBytes(t, "spend", []byte(spendHeader+"\r\n"), nil, ingest.Options{})
	if got.Status != ingest.StatusIngested || got.RowsRead != 0 || len(got.Outputs) != 0 {
		t.Errorf("status %s, %d rows, outputs %v; want ingested, 0, none", got.Status, got.RowsRead, got.Outputs)
	}
}

func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// TestQuarantine: past the reject-rate limit no row of the file is used; every valid row is
// rejected as file_quarantined, so the count still balances and the department sees every
// line it must resend. At the limit exactly, the file is taken in.
func TestQuarantine(t *testing.T) {
	data := []byte(spendHeader + "\n" +
		"SOF-1,DfE,2023-24,1,RDEL,10\n" +
		"SOF-1,DfE,2023-24,1,XDEL,10\n" +
		",,,,,\n" +
		"SOF-1,DfE,2023-24,1,RDEL,ten\n")
	got := ingestBytes(t, "spend", data, nil, ingest.Options{RejectRateLimit: 0.5})
	if got.Status != ingest.StatusQuarantined || got.Reason != ingest.ReasonRejectRate {
		t.Fatalf("status %s reason %s, want quarantined reject_rate", got.Status, got.Reason)
	}
	if got.RowsRead != 4 || got.RowsAccepted != 0 || got.RowsRejected != 4 {
		t.Errorf("read %d accepted %d rejected %d, want 4, 0, 4", got.RowsRead, got.RowsAccepted, got.RowsRejected)
	}
	wantBy := map[ingest.Reason]int64{ingest.ReasonNotAllowed: 1, ingest.ReasonBlankRow: 1, ingest.ReasonBadMoney: 1, ingest.ReasonFileQuarantined: 1}
	if diff := cmp.Diff(wantBy, got.RejectsByReason); diff != "" {
		t.Errorf("rejects by reason (-want +got):\n%s", diff)
	}
	wantRejects := []rej{{2, ingest.ReasonFileQuarantined, ""}, {3, ingest.ReasonNotAllowed, "budget_type"}, {4, ingest.ReasonBlankRow, ""}, {5, ingest.ReasonBadMoney, "actual_gbp"}}
	if diff := cmp.Diff(wantRejects, rejectCodes(got.rejects)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if got.rejects[0].Raw != "SOF-1,DfE,2023-24,1,RDEL,10" || !strings.Contains(got.rejects[0].Message, "3 of the file's 4 rows") {
		t.Errorf("quarantined row: %+v", got.rejects[0])
	}
	if len(got.Outputs) != 0 {
		t.Errorf("a quarantined file wrote lake files %v", got.Outputs)
	}
	if files := filesUnder(t, got.stage); len(files) != 1 || !strings.HasPrefix(files[0], "_rejects/") {
		t.Errorf("a quarantined file left %v, want its rejects file only", files)
	}

	// Two of four rejected is 50%, not more than the limit: the good rows go in.
	atLimit := ingestBytes(t, "spend", []byte(spendHeader+"\nSOF-1,DfE,2023-24,1,RDEL,10\nSOF-1,DfE,2023-24,1,XDEL,10\nSOF-1,DfE,2023-24,1,RDEL,ten\nSOF-1,DfE,2023-24,1,RDEL,11\n"), nil, ingest.Options{RejectRateLimit: 0.5})
	if atLimit.Status != ingest.StatusIngested || atLimit.RowsAccepted != 2 || atLimit.RowsRejected != 2 {
		t.Errorf("at the limit: status %s, accepted %d, rejected %d; want ingested, 2, 2", atLimit.Status, atLimit.RowsAccepted, atLimit.RowsRejected)
	}
}

// TestMistypedYearsAreOutOfRange: a year no return can mean is rejected at the row, so it
// never reaches the marts (where it would need a deflator and stop the publish).
func TestMistypedYearsAreOutOfRange(t *testing.T) {
	data := []byte("project_id,department,financial_year,period,payment_date,budget_type,actual_gbp\n" +
		"SOF-1,DfE,2203-04,1,,RDEL,10\n" +
		"SOF-1,DfE,,,15/04/2204,RDEL,10\n" +
		"SOF-1,DfE,,,15/04/2024,RDEL,10\n")
	got := ingestBytes(t, "spend", data, nil, ingest.Options{RejectRateLimit: 1})
	want := []rej{{2, ingest.ReasonOutOfRange, "financial_year"}, {3, ingest.ReasonOutOfRange, "payment_date"}}
	if diff := cmp.Diff(want, rejectCodes(got.rejects)); diff != "" || got.RowsAccepted != 1 {
		t.Errorf("accepted %d; rejects (-want +got):\n%s", got.RowsAccepted, diff)
	}
}

// TestRecordTooLongRejectsTheFile: a quote left open far from the end of a file makes a
// record longer than the limit; that is the file's fault, so the file is rejected whole as
// malformed_csv and no error stops the batch.
func TestRecordTooLongRejectsTheFile(t *testing.T) {
	good := strings.Repeat("SOF-1,DfE,2023-24,1,RDEL,10\n", 2000)
	data := []byte(spendHeader + "\n" + good + "SOF-1,\"DfE,2023-24,1,RDEL,10\n" + good)
	got := ingestBytes(t, "spend", data, nil, ingest.Options{ChunkBytes: 1024, MaxRecordBytes: 4096})
	if got.Status != ingest.StatusRejected || got.Reason != ingest.ReasonMalformedCSV || !strings.Contains(got.Message, "line 2002") {
		t.Errorf("status %s reason %s message %q; want rejected malformed_csv naming line 2002", got.Status, got.Reason, got.Message)
	}
	if len(got.Outputs) != 0 || len(filesUnder(t, got.stage)) != 0 {
		t.Errorf("a rejected file left %v", filesUnder(t, got.stage))
	}
}

// TestBlankRowsDoNotQuarantine: rows of bare delimiters, common at the end of spreadsheet
// exports, are rejected as blank_row but leave the reject rate alone.
func TestBlankRowsDoNotQuarantine(t *testing.T) {
	data := []byte(spendHeader + "\nSOF-1,DfE,2023-24,1,RDEL,10\n" + strings.Repeat(",,,,,\n", 5) + "SOF-1,DfE,2023-24,1,XDEL,10\n")
	got := ingestBytes(t, "spend", data, nil, ingest.Options{RejectRateLimit: 0.5})
	if got.Status != ingest.StatusIngested || got.RowsAccepted != 1 || got.RowsRejected != 6 || got.RejectsByReason[ingest.ReasonBlankRow] != 5 {
		t.Errorf("status %s, accepted %d, rejected %d (%v); want ingested with 1 accepted, 5 blank rows and 1 bad row rejected",
			got.Status, got.RowsAccepted, got.RowsRejected, got.RejectsByReason)
	}
}

// TestValidateModeWritesNothing: with no StageDir the ingest only counts and keeps the
// first rejects, as sofpipe validate needs.
func TestValidateModeWritesNothing(t *testing.T) {
	ds, _ := contract.Lookup("spend")
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	os.WriteFile(path, []byte(spendHeader+"\nSOF-1,DfE,2023-24,1,RDEL,1\nSOF-1,DfE,2023-24,1,RDEL,x\nSOF-1,DfE,2023-24,1,RDEL,2\n"), 0o644)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res, err := ingest.File(context.Background(), ingest.Input{Path: path, Source: path, SHA256: "abc", Dataset: ds}, ingest.Options{Alloc: mem, KeepRejects: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsRead != 3 || res.RowsAccepted != 2 || len(res.FirstRejects) != 1 || res.FirstRejects[0].Line != 3 {
		t.Errorf("validate mode: %+v", res)
	}
	if files := filesUnder(t, dir); len(files) != 1 {
		t.Errorf("validate mode wrote %v", files)
	}
}

// TestReasonsDocumented holds docs/reasons.md to the code: every reason code is listed there.
func TestReasonsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "reasons.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[ingest.Reason]bool{}
	for _, r := range ingest.Reasons() {
		if seen[r] {
			t.Errorf("reason %s listed twice in Reasons()", r)
		}
		seen[r] = true
		if !bytes.Contains(doc, []byte("`"+string(r)+"`")) {
			t.Errorf("docs/reasons.md does not document `%s`", r)
		}
	}
}

// TestDigestComputedAlongside: with no SHA-256 given, File hashes the file beside the read
// and uses the digest everywhere a given one would go: the result, the file names, the
// _file_sha256 column and the rejects.
func TestDigestComputedAlongside(t *testing.T) {
	ds, _ := contract.Lookup("spend")
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	data := []byte(spendHeader + "\nSOF-1,DfE,2023-24,1,RDEL,1\nSOF-1,DfE,2023-24,1,XDEL,1\n")
	os.WriteFile(path, data, 0o644)
	want := sha256.Sum256(data)
	wantHex := hex.EncodeToString(want[:])
	stage := filepath.Join(dir, "stage")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res, err := ingest.File(context.Background(), ingest.Input{Path: path, Source: "r.csv", Dataset: ds}, ingest.Options{StageDir: stage, BatchID: "b", Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != wantHex {
		t.Fatalf("SHA256 %q, want %q", res.SHA256, wantHex)
	}
	if len(res.Outputs) != 1 || res.Outputs[0] != ingest.DataPath(ds, "2023-24", wantHex, 0) || res.RejectsFile != ingest.RejectsPath(wantHex) {
		t.Errorf("outputs %v rejects %q: not named by the digest", res.Outputs, res.RejectsFile)
	}
	for _, r := range append(readParquet(t, filepath.Join(stage, res.Outputs[0])), readParquet(t, filepath.Join(stage, res.RejectsFile))...) {
		if r[contract.LineageFileSHA256] != wantHex {
			t.Errorf("_file_sha256 %q, want %q", r[contract.LineageFileSHA256], wantHex)
		}
	}
}

// TestEnumValuesKeepTheirSpelling follows an Enum column through both ways its values
// become dictionary ids: the first row group, encoded after it fills, and the later ones,
// encoded as rows arrive (ids are the values' places among the allowed values). The file
// starts with the second allowed value, spelled in every case, so an id taken for the
// wrong value, or a row given another's spelling, shows.
func TestEnumValuesKeepTheirSpelling(t *testing.T) {
	var b strings.Builder
	b.WriteString(spendHeader + "\n")
	var want []row
	spellings := []string{"cdel", "CDEL", "Cdel", "rdel", "RDEL", " CDel "}
	for i := range 40 {
		s := spellings[i%len(spellings)]
		if i < 7 {
			s = spellings[i%3] // the first rows are all CDEL
		}
		fmt.Fprintf(&b, "SOF-1,DfE,2023-24,1,%s,%d\n", s, i)
		want = append(want, row{"budget_type": strings.ToUpper(strings.TrimSpace(s)), "actual_gbp": fmt.Sprintf("%d.00", i)})
	}
	for _, workers := range []int{1, 2} {
		res := ingestBytes(t, "spend", []byte(b.String()), nil, ingest.Options{BatchRows: 8, ChunkBytes: 64, Workers: workers})
		if res.RowsAccepted != 40 {
			t.Fatalf("%d workers: accepted %d of 40: %+v", workers, res.RowsAccepted, res.FirstRejects)
		}
		if diff := cmp.Diff(want, project(res.rows, want)); diff != "" {
			t.Errorf("%d workers: lake rows (-want +got):\n%s", workers, diff)
		}
	}
}
