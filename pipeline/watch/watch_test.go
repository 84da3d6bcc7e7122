package watch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSettlerOneBatchPerBurst(t *testing.T) {
	s := Settler{Settle: 10 * time.Second}
	t0 := time.Date(2026, 6, 9, 14, 0, 0, 0, time.UTC)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	a := State{Size: 100, ModTime: t0}
	b := State{Size: 50, ModTime: t0.Add(3 * time.Second)}
	steps := []struct {
		sec   int
		files map[string]State
		want  bool
	}{
		{0, map[string]State{}, false},
		{1, map[string]State{"spend/a.csv": a}, false},                             // arrives
		{4, map[string]State{"spend/a.csv": a, "spend/b.csv": b}, false},           // the burst goes on
		{10, map[string]State{"spend/a.csv": a, "spend/b.csv": b}, false},          // 6 s unchanged
		{13, map[string]State{"spend/a.csv": a, "spend/b.csv": b}, false},          // 9 s
		{14, map[string]State{"spend/a.csv": a, "spend/b.csv": b}, true},           // 10 s: one batch
		{15, map[string]State{"spend/a.csv": a, "spend/b.csv": b}, false},          // not again
		{20, map[string]State{"spend/a.csv": a}, false},                            // the batch took b, left a
		{40, map[string]State{"spend/a.csv": a}, true},                             // a differs from the burst: once more
		{60, map[string]State{"spend/a.csv": a}, false},                            // and not again
		{61, map[string]State{}, false},                                            // taken
		{62, map[string]State{"spend/a.csv": a}, false},                            // delivered again
		{72, map[string]State{"spend/a.csv": a}, true},                             // a new burst
		{80, map[string]State{"spend/a.csv": {Size: 200, ModTime: at(79)}}, false}, // grows
		{89, map[string]State{"spend/a.csv": {Size: 200, ModTime: at(79)}}, false},
		{90, map[string]State{"spend/a.csv": {Size: 200, ModTime: at(79)}}, true},
	}
	for _, st := range steps {
		if got := s.Observe(at(st.sec), st.files); got != st.want {
			t.Errorf("at %d s with %d files: start = %v, want %v", st.sec, len(st.files), got, st.want)
		}
	}
}

func TestSettlerRetryWhenBusy(t *testing.T) {
	s := Settler{Settle: time.Second}
	t0 := time.Unix(1_800_000_000, 0)
	files := map[string]State{"lessons/x.csv": {Size: 1, ModTime: t0}}
	s.Observe(t0, files)
	if !s.Observe(t0.Add(2*time.Second), files) {
		t.Fatal("settled files did not start a batch")
	}
	s.Retry() // a batch was running
	if !s.Observe(t0.Add(3*time.Second), files) {
		t.Error("after Retry the waiting files did not start a batch")
	}
	if s.Observe(t0.Add(4*time.Second), files) {
		t.Error("started twice for the same files")
	}
}

func TestScan(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("spend/dfe.csv", "a,b\n1,2\n")
	write("spend/.upload.partial", "half")
	write("spend/notes.csv~", "editor")
	write(".hidden/spend.csv", "x")
	write("outcomes/o.csv", "x\n")
	if err := os.Symlink(filepath.Join(root, "spend", "dfe.csv"), filepath.Join(root, "spend", "link.csv")); err != nil {
		t.Fatal(err)
	}
	snap, err := Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rel := range snap.Files {
		got = append(got, rel)
	}
	slices.Sort(got)
	if want := []string{"outcomes/o.csv", "spend/dfe.csv"}; !slices.Equal(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
	if snap.Files["spend/dfe.csv"].Size != 8 {
		t.Errorf("size = %d, want 8", snap.Files["spend/dfe.csv"].Size)
	}
	if want := []string{"spend/link.csv"}; !slices.Equal(snap.Skipped, want) {
		t.Errorf("skipped = %v, want %v", snap.Skipped, want)
	}
	if _, err := Scan(filepath.Join(root, "missing")); err == nil {
		t.Error("a missing inbox scanned without error")
	}
}
