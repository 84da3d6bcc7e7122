package main

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/duckdb/duckdb-go/v2"
)

// queryWorkspace makes a workspace whose published warehouse is a DuckDB file the test
// builds itself, running setup's statements with their arguments.
func queryWorkspace(t *testing.T, setup func(db *sql.DB)) string {
	t.Helper()
	ws := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, "warehouse"), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", filepath.Join(ws, "warehouse", "sof.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	setup(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return ws
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// hardFloats need every one of their digits (or are the edge cases of the format): each
// must read back from csv and json with the very same bits.
var hardFloats = []float64{
	0.30000000000000004, // 0.1+0.2 in float64 (Go folds the constant expression exactly): 17 significant digits
	101210629.71,        // a present value in pounds, as the marts hold benefit_pv_gbp
	1.0 / 3,
	-2.5e-5,
	1e-6, 1e-7, // either side of plain decimal notation
	1e21, 1e22, 123456789012345678, // and of exponent notation
	math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64,
	math.Copysign(0, -1), 0, // -0 keeps its sign
	math.NaN(), math.Inf(1), math.Inf(-1),
}

// TestQueryMachineFormatsRoundTripDoubles is issue 8's defect 5: csv and json printed a
// DOUBLE to 6 significant digits (101210629.71 as 1.01211e+08). Every value must now parse
// back, with strconv.ParseFloat, to the same float64 bit for bit.
func TestQueryMachineFormatsRoundTripDoubles(t *testing.T) {
	ws := queryWorkspace(t, func(db *sql.DB) {
		mustExec(t, db, "CREATE TABLE t (id INTEGER, d DOUBLE)")
		for i, f := range hardFloats {
			mustExec(t, db, "INSERT INTO t VALUES (?, ?)", i, f)
		}
		mustExec(t, db, "INSERT INTO t VALUES (?, NULL)", len(hardFloats))
	})
	same := func(got, want float64) bool {
		return math.Float64bits(got) == math.Float64bits(want) || math.IsNaN(got) && math.IsNaN(want)
	}

	t.Run("csv", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "query", "-workspace", ws, "-format", "csv", "SELECT id, d FROM t ORDER BY id")
		if code != ExitOK {
			t.Fatalf("code %d: %s", code, stderr)
		}
		recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(hardFloats)+2 || !cmp.Equal(recs[0], []string{"id", "d"}) {
			t.Fatalf("csv:\n%s", stdout)
		}
		for i, want := range hardFloats {
			got, err := strconv.ParseFloat(recs[i+1][1], 64)
			if err != nil || !same(got, want) {
				t.Errorf("%v printed as %q, reads back as %v (%v)", want, recs[i+1][1], got, err)
			}
		}
		if last := recs[len(recs)-1][1]; last != "" {
			t.Errorf("NULL printed as %q, want an empty field", last)
		}
		for _, want := range []string{"\n0,0.30000000000000004\n", "\n1,101210629.71\n", "\n5,1e-7\n", "\n7,1e+22\n", "\n12,-0\n"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("csv lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "query", "-workspace", ws, "-format", "json", "SELECT d, id FROM t ORDER BY id")
		if code != ExitOK {
			t.Fatalf("code %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != len(hardFloats)+1 {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(hardFloats)+1, stdout)
		}
		for i, line := range lines {
			if !strings.HasPrefix(line, `{"d":`) {
				t.Errorf("line %d does not keep the column order (d, id): %s", i+1, line)
			}
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				t.Fatalf("line %d is not JSON: %v: %s", i+1, err, line)
			}
			if i == len(hardFloats) {
				if v, ok := obj["d"]; !ok || v != nil {
					t.Errorf("NULL printed as %#v, want null: %s", v, line)
				}
				continue
			}
			want := hardFloats[i]
			var text string
			switch v := obj["d"].(type) {
			case json.Number: // a finite value must be a JSON number, not a string
				text = string(v)
				if math.IsNaN(want) || math.IsInf(want, 0) {
					t.Errorf("%v is a JSON number %s: JSON has none", want, v)
				}
			case string:
				text = v
				if !math.IsNaN(want) && !math.IsInf(want, 0) {
					t.Errorf("%v printed as the string %q, want a JSON number", want, v)
				}
			default:
				t.Fatalf("d is %T: %s", v, line)
			}
			if got, err := strconv.ParseFloat(text, 64); err != nil || !same(got, want) {
				t.Errorf("%v printed as %s, reads back as %v (%v)", want, text, got, err)
			}
			if obj["id"] != json.Number(strconv.Itoa(i)) {
				t.Errorf("id %#v, want the JSON number %d: %s", obj["id"], i, line)
			}
		}
	})

	t.Run("table rounds for reading", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "query", "-workspace", ws, "SELECT d FROM t WHERE id IN (0, 1) ORDER BY id")
		if code != ExitOK {
			t.Fatalf("code %d: %s", code, stderr)
		}
		if got, want := strings.Fields(stdout), []string{"d", "0.3", "101210629.71", "(2", "rows)"}; !cmp.Equal(got, want) {
			t.Errorf("table:\n%s\nwant the words %q", stdout, want)
		}
		_, _, help := runCLI(t, "query", "-h")
		if !strings.Contains(help, "rounded") || !strings.Contains(help, "exact") {
			t.Errorf("query -h does not say the table rounds and csv and json are exact:\n%s", help)
		}
	})
}

// TestQueryMachineFormatsExactTypes: DECIMAL keeps every digit at its scale (548400.00,
// not 548400 or 548400.0000000001), big integers every digit, dates and timestamps their
// full precision, and json writes the numbers as JSON numbers in column order.
func TestQueryMachineFormatsExactTypes(t *testing.T) {
	ws := queryWorkspace(t, func(db *sql.DB) {
		mustExec(t, db, `CREATE TABLE v (id INTEGER, dec18 DECIMAL(18,2), dec38 DECIMAL(38,2), h HUGEINT,
			dt DATE, ts TIMESTAMP, tstz TIMESTAMPTZ, name VARCHAR, ok BOOLEAN, tags VARCHAR[], f REAL)`)
		mustExec(t, db, `INSERT INTO v VALUES
			(1, 548400.00, 101210629.71, 170141183460469231731687303715884105727, DATE '2024-03-31',
			 TIMESTAMP '2024-03-31 12:34:56.123456', TIMESTAMPTZ '2024-03-31 12:34:56.5+00', 'Café "Ltd", <x>', true, ['a', 'b'], 0.1),
			(2, -0.05, 99999999999999999999999999999999999.99, -170141183460469231731687303715884105728, DATE '1999-01-01',
			 TIMESTAMP '2024-03-31 00:00:00', TIMESTAMPTZ '2024-03-31 00:00:00+00', '', false, [], -1e-7),
			(3, 9999999999999999.99, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	})
	const q = "SELECT * FROM v ORDER BY id"

	code, stdout, stderr := runCLI(t, "query", "-workspace", ws, "-format", "csv", q)
	if code != ExitOK {
		t.Fatalf("csv: code %d: %s", code, stderr)
	}
	wantCSV := "id,dec18,dec38,h,dt,ts,tstz,name,ok,tags,f\n" +
		`1,548400.00,101210629.71,170141183460469231731687303715884105727,2024-03-31,2024-03-31T12:34:56.123456,2024-03-31T12:34:56.5Z,"Café ""Ltd"", <x>",true,"[""a"",""b""]",0.1` + "\n" +
		`2,-0.05,99999999999999999999999999999999999.99,-170141183460469231731687303715884105728,1999-01-01,2024-03-31T00:00:00,2024-03-31T00:00:00Z,,false,[],-1e-7` + "\n" +
		"3,9999999999999999.99,0.00,0,,,,,,,\n"
	if diff := cmp.Diff(wantCSV, stdout); diff != "" {
		t.Errorf("csv (-want +got):\n%s", diff)
	}

	code, stdout, stderr = runCLI(t, "query", "-workspace", ws, "-format", "json", q)
	if code != ExitOK {
		t.Fatalf("json: code %d: %s", code, stderr)
	}
	wantJSON := `{"id":1,"dec18":548400.00,"dec38":101210629.71,"h":170141183460469231731687303715884105727,"dt":"2024-03-31","ts":"2024-03-31T12:34:56.123456","tstz":"2024-03-31T12:34:56.5Z","name":"Café \"Ltd\", <x>","ok":true,"tags":["a","b"],"f":0.1}` + "\n" +
		`{"id":2,"dec18":-0.05,"dec38":99999999999999999999999999999999999.99,"h":-170141183460469231731687303715884105728,"dt":"1999-01-01","ts":"2024-03-31T00:00:00","tstz":"2024-03-31T00:00:00Z","name":"","ok":false,"tags":[],"f":-1e-7}` + "\n" +
		`{"id":3,"dec18":9999999999999999.99,"dec38":0.00,"h":0,"dt":null,"ts":null,"tstz":null,"name":null,"ok":null,"tags":null,"f":null}` + "\n"
	if diff := cmp.Diff(wantJSON, stdout); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	// Every line is JSON a standard parser takes, and the DECIMAL is a number there.
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		dec := json.NewDecoder(bytes.NewReader([]byte(line)))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			t.Errorf("not JSON: %v: %s", err, line)
		} else if _, ok := obj["dec38"].(json.Number); !ok {
			t.Errorf("dec38 is %T, want a JSON number: %s", obj["dec38"], line)
		}
	}
}

func TestFloatText(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{548400, 64, "548400"},
		{1e20, 64, "100000000000000000000"},
		{1e21, 64, "1e+21"},
		{1.5e-6, 64, "0.0000015"},
		{1e-300, 64, "1e-300"},
		{float64(float32(0.1)), 32, "0.1"}, // a REAL at its own precision
		{float64(float32(16777217)), 32, "16777216"},
	} {
		if got := floatText(tc.f, tc.bits); got != tc.want {
			t.Errorf("floatText(%v, %d) = %q, want %q", tc.f, tc.bits, got, tc.want)
		}
	}
}
