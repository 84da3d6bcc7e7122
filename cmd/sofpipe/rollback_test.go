package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRollbackCommand(t *testing.T) {
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"), filepath.Join(ws, "inbox"))
	if code, _, stderr := runCLI(t, "rollback", "-workspace", ws); code != ExitUsage || !strings.Contains(stderr, "history/ is empty") {
		t.Errorf("rollback with nothing kept: code %d, stderr %q", code, stderr)
	}
	for i := 0; i < 2; i++ {
		if code, _, stderr := runCLI(t, "run", "-workspace", ws, "-force"); code != ExitOK {
			t.Fatalf("run: %d %s", code, stderr)
		}
	}
	code, stdout, stderr := runCLI(t, "rollback", "-workspace", ws)
	if code != ExitOK || !strings.Contains(stdout, "is published") || !strings.Contains(stdout, "scale_up_candidates.csv") {
		t.Fatalf("rollback: code %d\n%s\n%s", code, stdout, stderr)
	}
	_, stdout, _ = runCLI(t, "runs", "-workspace", ws)
	if !strings.Contains(stdout, "rolled_back") {
		t.Errorf("runs does not show the rollback:\n%s", stdout)
	}
	if code, _, _ := runCLI(t, "rollback", "-workspace", ws, "a", "b"); code != ExitUsage {
		t.Errorf("two batches: code %d", code)
	}
}

func TestReportOfUnknownBatchIsUsage(t *testing.T) {
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"), filepath.Join(ws, "inbox"))
	if code, _, stderr := runCLI(t, "run", "-workspace", ws); code != ExitOK {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCLI(t, "report", "-workspace", ws, "-batch", "19990101T000000Z"); code != ExitUsage || !strings.Contains(stderr, "no such kept warehouse") {
		t.Errorf("report of an unknown batch: code %d, stderr %q", code, stderr)
	}
}
