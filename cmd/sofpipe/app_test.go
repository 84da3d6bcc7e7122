package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/internal/testfiles"
)

// runCLI runs the program in-process as a shell would, returning its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := testfiles.CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
}

func TestUsageAndUnknownCommand(t *testing.T) {
	if code, _, stderr := runCLI(t); code != ExitUsage || !strings.Contains(stderr, "usage: sofpipe") {
		t.Errorf("no args: code %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "frobnicate"); code != ExitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCLI(t, "run", "-no-such-flag"); code != ExitUsage {
		t.Errorf("bad flag: code %d, want %d", code, ExitUsage)
	}
	if code, stdout, _ := runCLI(t, "version"); code != ExitOK || !strings.HasPrefix(stdout, "sofpipe "+version) {
		t.Errorf("version: code %d, stdout %q", code, stdout)
	}
}

func TestRunQueryRunsOnGolden(t *testing.T) {
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"), filepath.Join(ws, "inbox"))

	code, stdout, stderr := runCLI(t, "run", "-workspace", ws)
	if code != ExitOK {
		t.Fatalf("run: code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{": published", "rows:  ", "scale_up_candidates.parquet", "sof.duckdb"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run summary lacks %q:\n%s", want, stdout)
		}
	}

	code, stdout, stderr = runCLI(t, "query", "-workspace", ws, "-format", "csv", "SELECT project_id, band FROM scale_up_candidates ORDER BY project_id")
	if code != ExitOK {
		t.Fatalf("query: code %d: %s", code, stderr)
	}
	want := "project_id,band\nSOF-001,scale_up\nSOF-002,extend_and_evaluate\nSOF-003,extend_and_evaluate\nSOF-004,stop_and_learn\n"
	if stdout != want {
		t.Errorf("query csv:\n%s\nwant:\n%s", stdout, want)
	}

	// Read-only: a query that writes is refused, and the file is unchanged.
	if code, _, stderr := runCLI(t, "query", "-workspace", ws, "DROP TABLE scale_up_candidates"); code != ExitFailure || !strings.Contains(strings.ToLower(stderr), "read-only") {
		t.Errorf("writing query: code %d, stderr %q; want a read-only refusal", code, stderr)
	}

	// Nor can it reach the rest of the file system or change its own settings.
	secret := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(secret, []byte("a\n1\n"), 0o644)
	for _, q := range []string{
		"SELECT * FROM read_csv('" + secret + "')",
		"COPY (SELECT 1) TO '" + filepath.Join(t.TempDir(), "out.csv") + "'",
		"SET enable_external_access = true",
	} {
		if code, _, stderr := runCLI(t, "query", "-workspace", ws, q); code != ExitFailure {
			t.Errorf("%s: code %d (stderr %q), want it refused", q, code, stderr)
		}
	}

	code, stdout, _ = runCLI(t, "run", "-workspace", ws)
	if code != ExitOK || !strings.Contains(stdout, ": unchanged") {
		t.Errorf("second run with nothing new: code %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(t, "runs", "-workspace", ws)
	if code != ExitOK || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, "published") || !strings.Contains(stdout, "unchanged") {
		t.Errorf("runs: code %d\n%s", code, stdout)
	}
}

func TestQueryWithoutWarehouse(t *testing.T) {
	code, _, stderr := runCLI(t, "query", "-workspace", t.TempDir(), "SELECT 1")
	if code != ExitFailure || !strings.Contains(stderr, "run 'sofpipe run' first") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
}

func TestBadConfigNamesTheField(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "sofpipe.json")
	os.WriteFile(cfgPath, []byte(`{"marts": {"discount_rate": 1.5}}`), 0o644)
	code, _, stderr := runCLI(t, "run", "-config", cfgPath, "-workspace", t.TempDir())
	if code != ExitFailure || !strings.Contains(stderr, "marts.discount_rate") {
		t.Errorf("code %d, stderr %q; want the field named", code, stderr)
	}
}
