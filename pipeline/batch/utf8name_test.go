package batch_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// TestNonUTF8FileNameDoesNotPoisonTheLake is issue 8's defect 2 through the batch: a
// return named with a Windows-1252 £ byte (as SMB and FTP clients write names) and one
// rejected row. Its rejects file used to carry the raw byte, and DuckDB then refused it on
// this night's build, the next night's and under --force. Every run must publish, and the
// warehouse must show the name as the department typed it, the same in _files (from the
// ledger) as in _rejects (from the lake).
func TestNonUTF8FileNameDoesNotPoisonTheLake(t *testing.T) {
	golden := filepath.Join("..", "..", "fixtures", "golden", "inbox")
	cfg := newWorkspace(t, golden)
	body := []byte("project_id,department,financial_year,period,budget_type,actual_gbp\r\n" +
		"SOF-001,Department for Education,2023-24,12,RDEL,\"\xA31,250.00\"\r\n" +
		"SOF-001,Department for Education,2023-24,13,RDEL,\"\xA3100.00\"\r\n") // period 13: rejected
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(cfg.Workspace, "inbox", "spend", "dfe-\xA3-2023-24.csv"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	const wantName = "dfe-£-2023-24.csv"
	now := clock()

	check := func(night string, out batch.Outcome) {
		t.Helper()
		if out.Run.Status != batch.StatusPublished {
			t.Fatalf("%s: status %s, want published: %s", night, out.Run.Status, out.Run.Message)
		}
		db := openWarehouse(t, cfg)
		defer db.Close()
		_, rejects := tableText(t, db, "SELECT source_path, line, reason FROM _rejects WHERE _file_sha256 = '"+sha+"' ORDER BY line")
		if len(rejects) != 1 || rejects[0][1] != "3" || rejects[0][2] != "out_of_range" {
			t.Fatalf("%s: the file's rejects %q, want line 3 out_of_range", night, rejects)
		}
		name := rejects[0][0]
		if !utf8.ValidString(name) || !strings.HasSuffix(name, wantName) {
			t.Errorf("%s: _rejects.source_path %q, want …%s", night, name, wantName)
		}
		_, files := tableText(t, db, "SELECT source_path FROM _files WHERE file_sha256 = '"+sha+"'")
		if len(files) != 1 || files[0][0] != name {
			t.Errorf("%s: _files.source_path %q, _rejects.source_path %q: the ledger and the lake must name the file alike", night, files, name)
		}
	}
	check("first night", runBatch(t, cfg, now, false))
	// The ledger keeps the name's own bytes beside the readable name.
	led := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs"))
	files, err := led.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.SHA256 == sha && string(f.SourcePathBytes) != "spend/dfe-\xA3-2023-24.csv" {
			t.Errorf("ledger: source_path_bytes %q, want the name's own bytes", f.SourcePathBytes)
		}
	}

	// The next night a normal return arrives: the build reads the first night's rejects
	// file again, with the new one.
	next := "project_id,department,financial_year,period,budget_type,actual_gbp\nSOF-001,Department for Education,2024-25,1,RDEL,500.00\n"
	if err := os.WriteFile(filepath.Join(cfg.Workspace, "inbox", "spend", "dfe-2024-25-p1.csv"), []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	check("second night", runBatch(t, cfg, now, false))
	check("forced build", runBatch(t, cfg, now, true))
}
