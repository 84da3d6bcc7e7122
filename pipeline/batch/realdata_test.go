package batch_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
)

// realReturnsDir holds five published 'spend over £25,000' files, byte for byte. They live in
// the shared workspace beside the repository (../shared from the repository root), never in
// it; CI has them. See ../shared/data/real-spend-returns/README.md.
var realReturnsDir = filepath.Join("..", "..", "..", "shared", "data", "real-spend-returns")

// realReturn is what the documented profile must make of one real file. The figures were
// worked out independently of sofpipe (Python's csv module on the bytes decoded as cp1252)
// and are computed again below by a parser that shares no code with the ingest.
type realReturn struct {
	name                     string
	read, accepted, rejected int64
	blankRows                int64  // rows of delimiters only: the only rejects expected
	totalGBP                 string // Σ Amount over the file, as the file states it
}

var realReturns = []realReturn{
	{"co-CO-February-2012-expenditure-over-25k.csv", 190, 111, 79, 79, "29017531.71"},
	{"dh-CSV__25K_Returns_January_Data_.csv", 849, 849, 0, 0, "10597235503.81"},
	{"hmt-25k_data_June_2013_final.csv", 36, 33, 3, 3, "8980874.47"},
	{"hmt-transparency_november.csv", 43, 43, 0, 0, "9541541.43"},
	{"moj-moj-spend-data-apr-13.csv", 2210, 2210, 0, 0, "375908406.09"},
}

// TestRealSpendReturns takes the five real departmental returns (Windows-1252, CR-only and
// CRLF, £ amounts, dd-Mon-yy dates, four header layouts, rows of delimiters, rows that stop
// short) through one documented profile, deploy/profiles/spend-over-25k.json, in a real
// batch. For every file: rows read = accepted + rejected, every reject explained, and the
// money in the lake plus the money in the rejected rows equals the file's own total.
func TestRealSpendReturns(t *testing.T) {
	if _, err := os.Stat(realReturnsDir); err != nil {
		t.Skipf("the real spend returns are not at %s (../shared beside the repository is absent outside the sofpipe workspace; CI has it): %v", realReturnsDir, err)
	}
	cfg, err := config.Load(filepath.Join("..", "..", "deploy", "profiles", "spend-over-25k.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workspace = t.TempDir()
	cfg.Ingest.Workers = 2
	shas := map[string]string{}
	for _, rr := range realReturns {
		b, err := os.ReadFile(filepath.Join(realReturnsDir, rr.name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		shas[rr.name] = hex.EncodeToString(sum[:])
		deliverFile(t, cfg, "spend-over-25k/"+rr.name, b)
	}
	// The warehouse needs the base year's deflator to publish; the golden vintage serves.
	for _, name := range []string{"hmt-deflators-2024-03.csv", "hmt-deflators-2024-06.csv"} {
		b, err := os.ReadFile(filepath.Join(goldenInbox, "gdp_deflators", name))
		if err != nil {
			t.Fatal(err)
		}
		deliverFile(t, cfg, "gdp_deflators/"+name, b)
	}
	out := runBatch(t, cfg, clock(), false)
	if out.Run.Status != batch.StatusPublished {
		t.Fatalf("status %s: %s", out.Run.Status, out.Run.Message)
	}
	wh := openWarehouse(t, cfg)
	lake, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	lakeGlob := filepath.ToSlash(filepath.Join(cfg.Workspace, "lake", "spend", "*", "*.parquet"))

	var allAccepted int64
	for _, rr := range realReturns {
		t.Run(rr.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(realReturnsDir, rr.name))
			if err != nil {
				t.Fatal(err)
			}
			fileTotal, dataRows, blankRows := independentTotal(t, raw)
			if formatPence(fileTotal) != rr.totalGBP || dataRows+blankRows != rr.read || blankRows != rr.blankRows {
				t.Errorf("independent read of the file: Σ %s over %d rows and %d blank rows; want Σ %s, %d rows read, %d blank",
					formatPence(fileTotal), dataRows, blankRows, rr.totalGBP, rr.read, rr.blankRows)
			}

			sha := shas[rr.name]
			var status, profile, encoding string
			var read, accepted, rejected int64
			var balanced bool
			if err := wh.QueryRow(`SELECT status, profile, encoding, rows_read, rows_accepted, rows_rejected, rows_balance FROM _files WHERE file_sha256 = ?`, sha).
				Scan(&status, &profile, &encoding, &read, &accepted, &rejected, &balanced); err != nil {
				t.Fatalf("_files: %v", err)
			}
			if status != "ingested" || profile != "spend-over-25k" || encoding != "windows-1252" {
				t.Errorf("_files: status %s, profile %s, encoding %s; want ingested, spend-over-25k, windows-1252", status, profile, encoding)
			}
			if read != rr.read || accepted != rr.accepted || rejected != rr.rejected || !balanced || read != accepted+rejected {
				t.Errorf("_files: read %d, accepted %d, rejected %d (balanced %v); want %d, %d, %d", read, accepted, rejected, balanced, rr.read, rr.accepted, rr.rejected)
			}

			var lakeRows, lakePence int64
			if err := lake.QueryRow(fmt.Sprintf(`SELECT count(*), coalesce(CAST(sum(actual_gbp) * 100 AS BIGINT), 0) FROM read_parquet('%s', hive_partitioning = true) WHERE _file_sha256 = ?`, lakeGlob), sha).
				Scan(&lakeRows, &lakePence); err != nil {
				t.Fatal(err)
			}
			if lakeRows != accepted {
				t.Errorf("the lake holds %d rows of the file, the ledger says %d accepted", lakeRows, accepted)
			}

			rs, err := wh.Query(`SELECT line, reason, message, raw FROM _rejects WHERE _file_sha256 = ? ORDER BY line`, sha)
			if err != nil {
				t.Fatal(err)
			}
			var rejectedPence, rejects, blank int64
			for rs.Next() {
				var line int64
				var reason, message, rawText string
				if err := rs.Scan(&line, &reason, &message, &rawText); err != nil {
					t.Fatal(err)
				}
				rejects++
				if reason == "" || message == "" || line <= 0 {
					t.Errorf("line %d: reject without a reason or message: %q %q", line, reason, message)
				}
				if reason == "blank_row" {
					blank++
				} else {
					t.Errorf("line %d: rejected as %s (%s): %q", line, reason, message, rawText)
				}
				// Whatever the reason, the money the row holds is accounted for here.
				p, _, _ := independentTotal(t, []byte(headerOf(raw)+"\n"+rawText+"\n"))
				rejectedPence += p
			}
			rs.Close()
			if rejects != rejected || blank != rr.blankRows {
				t.Errorf("_rejects holds %d rows (%d blank), the ledger says %d rejected; want %d blank", rejects, blank, rejected, rr.blankRows)
			}
			if lakePence+rejectedPence != fileTotal {
				t.Errorf("money: lake %s + rejected %s = %s, the file's own total is %s",
					formatPence(lakePence), formatPence(rejectedPence), formatPence(lakePence+rejectedPence), formatPence(fileTotal))
			}
			t.Logf("%s: read %d, accepted %d, rejected %d (blank_row %d); file Σ %s, lake Σ %s",
				rr.name, read, accepted, rejected, blank, formatPence(fileTotal), formatPence(lakePence))
			allAccepted += accepted
		})
	}

	// The models read every line: the five departments never share a natural key, so
	// nothing is superseded, and nothing is lost on the way.
	var lines int64
	var units int
	if err := wh.QueryRow(`SELECT count(*), count(DISTINCT project_id) FROM spend_lines`).Scan(&lines, &units); err != nil {
		t.Fatal(err)
	}
	if lines != allAccepted {
		t.Errorf("spend_lines holds %d lines, the files %d accepted rows", lines, allAccepted)
	}
	t.Logf("spend_lines: %d lines, %d distinct project_id values", lines, units)
	var failed int
	if err := wh.QueryRow(`SELECT count(*) FROM _checks WHERE status = 'fail' OR (name = 'ledger_rows_accounted' AND status <> 'pass')`).Scan(&failed); err != nil {
		t.Fatal(err)
	}
	if failed != 0 {
		t.Errorf("%d data tests failed", failed)
	}
}

// headerOf returns a file's first line, decoded, for parsing a rejected row's raw text.
func headerOf(raw []byte) string {
	text := decodeCP1252(raw)
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		return text[:i]
	}
	return text
}

func decodeCP1252(raw []byte) string {
	b, err := charmap.Windows1252.NewDecoder().Bytes(raw)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// independentTotal reads a Windows-1252 return with encoding/csv, not sofpipe's scanner, and
// adds its Amount column in pence with a parser of its own. It returns the total, the rows
// that hold anything and the rows of empty fields only.
func independentTotal(t *testing.T, raw []byte) (pence, rows, blank int64) {
	t.Helper()
	text := strings.ReplaceAll(decodeCP1252(raw), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	amount := -1
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), "amount") {
			amount = i
		}
	}
	if amount < 0 {
		t.Fatalf("no Amount column in %q", header)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			blank++
			continue
		}
		rows++
		if amount < len(rec) {
			pence += poundsToPence(t, rec[amount])
		}
	}
	return pence, rows, blank
}

// poundsToPence parses "£102,000.00", "-7,147.83", "(1.50)", "150000".
func poundsToPence(t *testing.T, s string) int64 {
	t.Helper()
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	s = strings.NewReplacer("£", "", ",", "", " ", "").Replace(s)
	if strings.HasPrefix(s, "-") {
		neg, s = !neg, s[1:]
	}
	pounds, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	var p int64
	for _, c := range pounds + frac {
		if c < '0' || c > '9' {
			t.Fatalf("amount %q is not pounds and pence", s)
		}
		p = p*10 + int64(c-'0')
	}
	if neg {
		p = -p
	}
	return p
}

func formatPence(p int64) string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	return fmt.Sprintf("%s%d.%02d", sign, p/100, p%100)
}
