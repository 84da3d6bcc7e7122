package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
)

// TestCopyBaseTrustsOnlyTheIdentityPublished: an incremental build copies the published
// warehouse without hashing it only while the file keeps the identity it had when it was
// published. A file changed in place, even with its modification time put back, has a new
// ctime: its bytes are hashed and the change is caught.
func TestCopyBaseTrustsOnlyTheIdentityPublished(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "sof.duckdb")
	published := []byte(strings.Repeat("published warehouse bytes\n", 10000))
	if err := os.WriteFile(live, published, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(published)
	want := hex.EncodeToString(sum[:])
	id, ok, err := fsutil.IdentityOfPath(live)
	if err != nil || !ok {
		t.Skipf("no file identity here (%v): nothing is trusted, every copy is hashed", err)
	}

	copyTo := func(name string, trusted *fsutil.Identity, wantSHA256 string) ([]byte, error) {
		to := filepath.Join(dir, name)
		if err := copyBase(context.Background(), live, to, wantSHA256, trusted); err != nil {
			return nil, err
		}
		return os.ReadFile(to)
	}
	got, err := copyTo("trusted.duckdb", &id, want)
	if err != nil || string(got) != string(published) {
		t.Fatalf("copy of the file as published: %v (%d bytes of %d)", err, len(got), len(published))
	}
	// The identity alone stands for the digest: a wrong digest goes unread.
	if _, err := copyTo("trusted-unhashed.duckdb", &id, strings.Repeat("0", 64)); err != nil {
		t.Errorf("with its published identity the file was hashed after all: %v", err)
	}

	// Changed in place, same size, modification time put back.
	info, err := os.Stat(live)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // a ctime the change can be told by
	changed := []byte(strings.Replace(string(published), "published", "PUBLISHED", 1))
	if err := os.WriteFile(live, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(live, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	if now, _, _ := fsutil.IdentityOfPath(live); now.MtimeNs != id.MtimeNs || now.Size != id.Size {
		t.Fatalf("the test did not put size and mtime back: %+v, published %+v", now, id)
	}
	_, err = copyTo("changed.duckdb", &id, want)
	if err == nil || !strings.Contains(err.Error(), "has changed since it was published") {
		t.Errorf("a file changed in place was copied as the published one: %v", err)
	}
	// Without a recorded identity the digest decides, as before.
	if _, err := copyTo("hashed.duckdb", nil, want); err == nil {
		t.Error("a changed file passed the digest check")
	}
}

// TestBaseCopyStops: a copy started for a batch that has stopped (its context done) ends
// with the context's error and leaves no file, and Discard of a finished copy removes it.
func TestBaseCopyStops(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "sof.duckdb")
	if err := os.WriteFile(live, []byte(strings.Repeat("published warehouse bytes\n", 10000)), 0o444); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stopped := StartBaseCopy(ctx, live, filepath.Join(dir, ".build-stopped.duckdb"), "", nil, nil)
	if err := stopped.Wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("copy for a stopped batch: %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".build-stopped.duckdb")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stopped copy is left: %v", err)
	}
	ran := false
	done := StartBaseCopy(context.Background(), live, filepath.Join(dir, ".build-done.duckdb"), "", nil, func() { ran = true })
	if err := done.Wait(); err != nil || !ran {
		t.Fatalf("copy: %v (first ran: %t)", err, ran)
	}
	if got, err := os.ReadFile(filepath.Join(dir, ".build-done.duckdb")); err != nil || len(got) != 26*10000 {
		t.Fatalf("the copy: %d bytes, %v", len(got), err)
	}
	done.Discard()
	if _, err := os.Stat(filepath.Join(dir, ".build-done.duckdb")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a discarded copy is left: %v", err)
	}
}
