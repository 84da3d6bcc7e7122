package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunAsServiceUser drives the real binary as an unprivileged service user over two
// nights, as deploy/systemd runs it (User=sofpipe): it must publish a warehouse and exports
// each night, keep the previous night's warehouse in history, and answer queries. Run as
// root, every file operation succeeds whatever its permissions, which once hid that no
// other user could ever publish (the published file is read-only, and syncing it opened it
// for writing).
func TestRunAsServiceUser(t *testing.T) {
	bin := sofpipeBinary(t)
	u := unprivileged(t)
	ws := u.dir(t, 0o755)
	fixtures := filepath.Join("..", "..", "fixtures", "golden", "inbox")
	copyTree(t, fixtures, filepath.Join(ws, "inbox"))
	// The second night's correction waits outside the inbox.
	later := filepath.Join(ws, "inbox", "spend", "02-moj-correction-2024-08.csv")
	held := filepath.Join(ws, "held.csv")
	if err := os.Rename(later, held); err != nil {
		t.Fatal(err)
	}
	u.chownTree(t, ws)

	for night := 1; night <= 2; night++ {
		if night == 2 {
			if err := os.Rename(held, later); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := u.run(t, bin, "run", "--workspace", ws)
		if code != ExitOK || !strings.Contains(stdout, ": published") {
			t.Fatalf("night %d as uid %d: exit %d\nstdout:\n%s\nstderr:\n%s", night, u.uid, code, stdout, stderr)
		}
		for _, p := range []string{"warehouse/sof.duckdb", "exports/scale_up_candidates.parquet", "exports/lessons_learned.csv"} {
			info, err := os.Stat(filepath.Join(ws, p))
			if err != nil {
				t.Fatalf("night %d: %s not published: %v", night, p, err)
			}
			if owner := fileOwner(info); owner != u.uid {
				t.Errorf("night %d: %s owned by uid %d, want the service user %d", night, p, owner, u.uid)
			}
		}
	}
	history, _ := filepath.Glob(filepath.Join(ws, "warehouse", "history", "sof-*.duckdb"))
	if len(history) != 1 {
		t.Errorf("history %v: want the first night's warehouse kept", history)
	}
	code, stdout, stderr := u.run(t, bin, "query", "--workspace", ws, "--format", "csv", "SELECT count(*) AS n FROM scale_up_candidates")
	if code != ExitOK || stdout != "n\n4\n" {
		t.Errorf("query as the service user: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = u.run(t, bin, "runs", "--workspace", ws)
	if code != ExitOK || strings.Count(stdout, "published") != 2 {
		t.Errorf("runs as the service user: exit %d\n%s", code, stdout)
	}
}

// TestUnreadableDeliveriesWait: on a shared inbox others write to, a delivery the service
// user may not read (another user's 0600 file) and a folder it may not list are logged,
// counted and left where they are; the batch goes on with the rest, and a later batch
// reads them once their permissions are mended.
func TestUnreadableDeliveriesWait(t *testing.T) {
	bin := sofpipeBinary(t)
	u := unprivileged(t)
	if u.wrap == nil {
		t.Skip("needs root: the unreadable files must belong to another user")
	}
	ws := u.dir(t, 0o755)
	copyTree(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"), filepath.Join(ws, "inbox"))
	u.chownTree(t, ws)
	// Root's files in the shared inbox: one the service user cannot read, and a folder it
	// cannot list, holding the other spend return.
	unreadable := filepath.Join(ws, "inbox", "outcomes", "2024-08-outcomes-correction.csv")
	if err := os.Chown(unreadable, 0, 0); err != nil {
		t.Fatal(err)
	}
	os.Chmod(unreadable, 0o600)
	private := filepath.Join(ws, "inbox", "spend", "private")
	os.Mkdir(private, 0o700)
	if err := os.Rename(filepath.Join(ws, "inbox", "spend", "02-moj-correction-2024-08.csv"), filepath.Join(private, "02-moj-correction-2024-08.csv")); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := u.run(t, bin, "run", "--workspace", ws)
	if code != ExitOK || !strings.Contains(stdout, ": published") || !strings.Contains(stdout, "2 entries could not be read") {
		t.Fatalf("first night: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"file cannot be read by this user", "inbox entry cannot be read"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the log does not say %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(unreadable); err != nil {
		t.Errorf("the unreadable delivery left its place: %v", err)
	}
	// Permissions mended: the next night takes both.
	os.Chmod(unreadable, 0o644)
	os.Chmod(private, 0o777)
	code, stdout, stderr = u.run(t, bin, "run", "--workspace", ws)
	if code != ExitOK || !strings.Contains(stdout, "2 new") {
		t.Errorf("second night: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
