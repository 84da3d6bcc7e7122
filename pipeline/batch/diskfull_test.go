//go:build faults

package batch_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/internal/testfiles"
	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// TestDiskFullAtEveryStep runs the second night's batch on a workspace whose file system
// (a tmpfs) is sized, step by step, from just larger than what the first night left to
// more than the whole night needs, so that the disk fills at one point after another:
// storing originals, writing the lake, the ledger, the warehouse build and its spill, the
// exports, the state. After each: the batch failed with a disk-full message (or
// finished), the published warehouse opens and passes its data tests, nothing partial is
// left, no delivery is lost; then the file system is grown, a rerun finishes, and the
// result equals a run that never met a full disk.
//
// It needs root (mount); make test-faults runs it.
func TestDiskFullAtEveryStep(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a size-limited tmpfs")
	}
	sc := newDiskScenario(t)
	second, want, previous, wantMarts := sc.second, sc.records, sc.previous, sc.final

	// The first night's workspace is copied onto each small file system; the sizes run
	// from what that copy takes to past what the second night needs.
	baseFirst := sc.firstNight
	// Fine steps through the night's small writes (originals, lake, ledger), then larger
	// ones through the warehouse build, until the night fits.
	size := diskUsage(t, baseFirst.Workspace) * 9 / 10
	var failures, points, fitted int
	stages := map[string]int{}
	// When the night first fits, the sizes just below it are tried too: they fill the
	// disk in the last steps (exports, publishing, state).
	finishedAt := int64(0)
	var tail []int64
	for ; points < 400; size = nextSize(size, fitted, &finishedAt, &tail) {
		if size == 0 {
			break
		}
		points++
		mnt := t.TempDir()
		if err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", mnt).Run(); err != nil {
			t.Skipf("cannot mount a tmpfs here: %v", err)
		}
		cfg := baseFirst
		cfg.Workspace = filepath.Join(mnt, "ws")
		if err := exec.Command("cp", "-a", baseFirst.Workspace, cfg.Workspace).Run(); err != nil {
			unmount(t, mnt)
			continue // too small even for the first night
		}
		if !tryDeliver(cfg, second) {
			unmount(t, mnt)
			continue
		}
		fitted++
		out, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: clock()})
		if err == nil {
			t.Logf("%d KiB: the night finished (%s)", size>>10, out.Run.Status)
			unmount(t, mnt)
			if finishedAt == 0 {
				finishedAt = size
				for k := int64(1); k <= 24; k++ {
					tail = append(tail, size-k*(16<<10))
				}
			}
			continue
		}
		failures++
		var full *batch.DiskFullError
		if !errors.As(err, &full) || !strings.Contains(err.Error(), "disk full while") {
			unmount(t, mnt)
			t.Fatalf("%d KiB: the batch failed with %v, want a disk-full error", size>>10, err)
		}
		stages[stageKind(full.Stage)]++
		if testing.Verbose() {
			t.Logf("%d KiB: disk full while %s", size>>10, full.Stage)
		}
		// The published warehouse: the previous one or the new one, whole and tested.
		got := martContents(t, cfg)
		if !cmp.Equal(got, previous) && !cmp.Equal(got, wantMarts) {
			t.Errorf("%d KiB (%s): the published warehouse is neither the previous nor the new one", size>>10, full.Stage)
		}
		assertChecksPass(t, cfg)
		assertNoPartialFiles(t, cfg)
		assertNoDeliveryLost(t, cfg, second)
		// Space freed: a rerun finishes the work.
		if err := exec.Command("mount", "-o", "remount,size=512m", mnt).Run(); err != nil {
			t.Fatal(err)
		}
		if _, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: clock()}); err != nil {
			t.Fatalf("%d KiB (%s): the rerun with space: %v", size>>10, full.Stage, err)
		}
		if diff := cmp.Diff(wantMarts, martContents(t, cfg)); diff != "" {
			t.Errorf("%d KiB (%s): marts after the rerun (-clean +got):\n%s", size>>10, full.Stage, diff)
		}
		if diff := cmp.Diff(want, recordsOf(t, cfg)); diff != "" {
			t.Errorf("%d KiB (%s): records after the rerun (-clean +got):\n%s", size>>10, full.Stage, diff)
		}
		assertNoTemporaryFiles(t, cfg)
		unmount(t, mnt)
	}
	t.Logf("fault points tried: %d sizes that held the first night and the deliveries, %d met a full disk; by stage: %v", fitted, failures, stages)
	if failures < 5 {
		t.Errorf("only %d fault points met a full disk", failures)
	}
}

func stageKind(stage string) string {
	for _, k := range []string{"claiming", "storing the original", "reading", "recording", "building the warehouse", "exporting", "publishing"} {
		if strings.HasPrefix(stage, k) {
			return k
		}
	}
	return stage
}

func diskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			if info, err := d.Info(); err == nil {
				if st, ok := info.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				}
			}
		}
		return nil
	})
	return n
}

func unmount(t *testing.T, mnt string) {
	t.Helper()
	if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
		t.Fatalf("umount %s: %v: %s", mnt, err, out)
	}
}

// tryDeliver copies the files under src into the inbox, reporting whether they fit.
func tryDeliver(cfg config.Config, src string) bool {
	return testfiles.CopyTree(src, filepath.Join(cfg.Workspace, "inbox")) == nil
}

func assertChecksPass(t *testing.T, cfg config.Config) {
	t.Helper()
	db, err := warehouse.Open(filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var failed int
	if err := db.QueryRow("SELECT count(*) FROM _checks WHERE status = 'fail'").Scan(&failed); err != nil || failed != 0 {
		t.Errorf("the published warehouse: %d data tests failed (%v)", failed, err)
	}
}

// assertNoPartialFiles is assertNoTemporaryFiles, but for the claimed copy of a file the
// batch committed to the ledger before the disk filled and could not then record in its
// run: the next batch completes the run's record and removes the copy (given back to the
// inbox, it would be counted as a second delivery).
func assertNoPartialFiles(t *testing.T, cfg config.Config) {
	t.Helper()
	files, err := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs")).Files()
	if err != nil {
		t.Fatal(err)
	}
	committed := map[string]bool{}
	for _, f := range files {
		committed[f.BatchID+"."+filepath.Base(f.SourcePath)] = true
	}
	filepath.WalkDir(filepath.Join(cfg.Workspace, "inbox"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".sofpipe-claimed.") {
			if !committed[strings.TrimPrefix(d.Name(), ".sofpipe-claimed.")] {
				t.Errorf("a claimed file that is not committed was left: %s", p)
			}
			os.Rename(p, p+".checked") // out of the way of the generic check below
		}
		return nil
	})
	assertNoTemporaryFilesExcept(t, cfg, ".checked")
	filepath.WalkDir(filepath.Join(cfg.Workspace, "inbox"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".checked") {
			os.Rename(p, strings.TrimSuffix(p, ".checked"))
		}
		return nil
	})
}

// assertNoDeliveryLost: every file of src is still in the inbox under its name, or its
// bytes are stored and its delivery recorded (in a run, or committed to the ledger).
func assertNoDeliveryLost(t *testing.T, cfg config.Config, src string) {
	t.Helper()
	runs, err := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs")).Runs()
	if err != nil {
		t.Fatal(err)
	}
	delivered := map[string]bool{}
	files, err := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs")).Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(cfg.Workspace, "store", "sha256", f.SHA256[:2], f.SHA256)); err == nil {
			delivered[f.SourcePath] = true
		}
	}
	for _, r := range runs {
		for _, d := range r.Deliveries {
			if _, err := os.Stat(filepath.Join(cfg.Workspace, "store", "sha256", d.SHA256[:2], d.SHA256)); err == nil {
				delivered[d.SourcePath] = true
			}
		}
	}
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		if _, err := os.Stat(filepath.Join(cfg.Workspace, "inbox", rel)); err != nil && !delivered[rel] {
			t.Errorf("%s is neither in the inbox nor stored and recorded", rel)
		}
		return nil
	})
}

// nextSize steps the file system's size: 4 KiB at a time through the night's small
// writes, 384 KiB through the warehouse build, and once the night fits, down through the
// sizes in tail, then stop (0).
func nextSize(size int64, fitted int, finishedAt *int64, tail *[]int64) int64 {
	if *finishedAt == 0 {
		if fitted < 48 {
			return size + 4<<10
		}
		return size + 384<<10
	}
	if len(*tail) == 0 {
		return 0
	}
	next := (*tail)[0]
	*tail = (*tail)[1:]
	return next
}

// TestDiskFillsAtEachPoint fills the disk at named points of the batch (batch.WithReached)
// that sizing the file system cannot reach, because the warehouse build needs more room
// than anything after it: once a file is committed (its delivery cannot then be recorded),
// once a delivery is recorded, and once the warehouse is published and its state saved
// (the run record cannot then be written). The same promises hold, and a
// rerun after the space is freed equals a clean run.
func TestDiskFillsAtEachPoint(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a size-limited tmpfs")
	}
	sc := newDiskScenario(t)
	second, want, previous, wantMarts := sc.second, sc.records, sc.previous, sc.final

	baseFirst := sc.firstNight
	// (Right after the warehouse is published, the staged exports' folder is removed, which
	// frees room for the state: the disk cannot be kept full there.)
	for _, point := range []string{"file committed", "delivery recorded", "state saved"} {
		t.Run(strings.ReplaceAll(point, " ", "_"), func(t *testing.T) {
			mnt := t.TempDir()
			if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).Run(); err != nil {
				t.Skipf("cannot mount a tmpfs here: %v", err)
			}
			defer unmount(t, mnt)
			cfg := baseFirst
			cfg.Workspace = filepath.Join(mnt, "ws")
			if err := exec.Command("cp", "-a", baseFirst.Workspace, cfg.Workspace).Run(); err != nil {
				t.Fatal(err)
			}
			deliver(t, cfg, second)
			ballast := filepath.Join(mnt, "ballast")
			opt := batch.WithReached(batch.Options{Version: "test", Now: clock()}, func(p string) {
				if p == point {
					fill(t, ballast)
				}
			})
			_, err := batch.Run(context.Background(), cfg, opt)
			var full *batch.DiskFullError
			if !errors.As(err, &full) {
				t.Fatalf("the batch: %v, want a disk-full error", err)
			}
			t.Logf("disk filled at %q: disk full while %s", point, full.Stage)
			got := martContents(t, cfg)
			if !cmp.Equal(got, previous) && !cmp.Equal(got, wantMarts) {
				t.Errorf("the published warehouse is neither the previous nor the new one")
			}
			assertChecksPass(t, cfg)
			assertNoPartialFiles(t, cfg)
			assertNoDeliveryLost(t, cfg, second)
			if err := os.Remove(ballast); err != nil {
				t.Fatal(err)
			}
			if _, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: clock()}); err != nil {
				t.Fatalf("the rerun with space: %v", err)
			}
			if diff := cmp.Diff(wantMarts, martContents(t, cfg)); diff != "" {
				t.Errorf("marts after the rerun (-clean +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, recordsOf(t, cfg)); diff != "" {
				t.Errorf("records after the rerun (-clean +got):\n%s", diff)
			}
			assertNoTemporaryFiles(t, cfg)
		})
	}
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				// The last few blocks: smaller writes until nothing fits.
				for _, err := f.Write(block[:512]); err == nil; _, err = f.Write(block[:512]) {
				}
				return
			}
			t.Fatal(err)
		}
	}
}

// diskScenario is the two nights both fault tests run: the second night's deliveries, what
// a clean run leaves (records, and the marts before and after the second night), and a
// workspace after the first night to copy onto a small file system.
type diskScenario struct {
	second          string
	records         records
	previous, final map[string][][]string
	firstNight      config.Config
}

func newDiskScenario(t *testing.T) diskScenario {
	t.Helper()
	first, second := splitGolden(t)
	sc := diskScenario{second: second, records: cleanRecords(t, first, second)}
	clean := newWorkspace(t, first)
	runBatch(t, clean, clock(), false)
	sc.previous = martContents(t, clean)
	deliver(t, clean, second)
	runBatch(t, clean, clock(), false)
	sc.final = martContents(t, clean)
	sc.firstNight = newWorkspace(t, first)
	runBatch(t, sc.firstNight, clock(), false)
	return sc
}
