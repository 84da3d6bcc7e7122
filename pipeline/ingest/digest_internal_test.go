package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPatchDigestEverywhere: every occurrence is replaced, including one that straddles the
// scan's 1 MiB windows, and nothing else in the file changes.
func TestPatchDigestEverywhere(t *testing.T) {
	provisional := strings.Repeat("ab", 32)
	sum := strings.Repeat("01", 32)
	data := bytes.Repeat([]byte{'x'}, 3<<20)
	at := []int{0, 1<<20 - 10, 2 << 20, len(data) - len(provisional)}
	for _, off := range at {
		copy(data[off:], provisional)
	}
	p := filepath.Join(t.TempDir(), "f.parquet")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := patchDigest(p, provisional, sum); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	want := append([]byte(nil), data...)
	for _, off := range at {
		copy(want[off:], sum)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("patched file differs from the expected bytes")
	}
	if err := patchDigest(p, provisional, sum); err == nil {
		t.Error("a file without the provisional digest was patched without complaint")
	}
}
