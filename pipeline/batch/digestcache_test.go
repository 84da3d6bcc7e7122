package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCachedDigest: the executable's digest comes from state/ while the file is the one the
// cache was written for, and is taken afresh once the file changes.
func TestCachedDigest(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	exe := filepath.Join(dir, "sofpipe")
	if err := os.WriteFile(exe, []byte("program one"), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := func() string {
		t.Helper()
		f, err := os.Open(exe)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sum, err := cachedDigest(f, state)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	sha := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	if got := digest(); got != sha("program one") {
		t.Fatalf("first digest %s, want %s", got, sha("program one"))
	}
	// The cache is read, not the file: a cache saying otherwise for the same file wins.
	cache := filepath.Join(state, "program-sha256.json")
	b, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache, []byte(strings.Replace(string(b), sha("program one"), "cached", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := digest(); got != "cached" {
		t.Errorf("digest with a cache for the same file: %s, want the cached value", got)
	}
	// A rewritten file (same size, a later time) is hashed again.
	if err := os.WriteFile(exe, []byte("program two"), 0o755); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(exe, later, later); err != nil {
		t.Fatal(err)
	}
	if got := digest(); got != sha("program two") {
		t.Errorf("digest after the file changed: %s, want %s", got, sha("program two"))
	}
}
