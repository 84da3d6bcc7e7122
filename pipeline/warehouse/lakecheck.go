package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// ErrLakeDamaged means a lake file a build would read no longer has the bytes the ledger
// recorded when it was written: the build stops rather than publish from it.
var ErrLakeDamaged = errors.New("warehouse: lake file damaged")

// LakeDamageError names the lake files that differ from their ledger records.
type LakeDamageError struct {
	Problems []string // one line per file: path and what is wrong
}

func (e *LakeDamageError) Error() string {
	msg := fmt.Sprintf("warehouse: %d lake file(s) differ from what the ledger recorded when they were written, so the build stops and the last published warehouse stands: %s", len(e.Problems), e.Problems[0])
	if len(e.Problems) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(e.Problems)-1)
	}
	return msg + "; run 'sofpipe verify --repair' to read them again from the stored originals"
}

func (e *LakeDamageError) Unwrap() error { return ErrLakeDamaged }

// checkLake hashes every lake file a build is about to read, the data files of reading
// and the rejects files of every file in files, against the digest its ledger record
// keeps (records from before digests were kept are read as they are). The files are
// hashed in parallel; a missing or changed file is a LakeDamageError.
func checkLake(ctx context.Context, lakeDir string, reading, files []ledger.File) error {
	type job struct{ rel, want string }
	var jobs []job
	add := func(f ledger.File, rel string) {
		if d, ok := f.LakeFiles[rel]; ok {
			jobs = append(jobs, job{rel, d.SHA256})
		}
	}
	for _, f := range reading {
		if f.Status == ledger.StatusIngested {
			for _, rel := range f.Outputs {
				add(f, rel)
			}
		}
	}
	for _, f := range files {
		if f.RejectsFile != "" {
			add(f, f.RejectsFile)
		}
	}
	var (
		mu       sync.Mutex
		problems []string
		wg       sync.WaitGroup
		next     = make(chan job)
	)
	for range min(runtime.GOMAXPROCS(0), max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				got, err := hashFile(filepath.Join(lakeDir, filepath.FromSlash(j.rel)))
				var problem string
				switch {
				case errors.Is(err, os.ErrNotExist):
					problem = "lake/" + j.rel + " is missing"
				case err != nil:
					problem = fmt.Sprintf("lake/%s cannot be read: %v", j.rel, err)
				case got != j.want:
					problem = fmt.Sprintf("lake/%s has SHA-256 %s, recorded %s", j.rel, got, j.want)
				}
				if problem != "" {
					mu.Lock()
					problems = append(problems, problem)
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return &LakeDamageError{Problems: problems}
	}
	return nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
