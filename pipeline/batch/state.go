package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// published is what state/published.json and state/exported.json remember.
type published struct {
	BatchID     string    `json:"batch_id"`
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"at"`
	// WarehouseSHA256 is the digest of the warehouse file as published: an incremental
	// build starts from that file only while it still has these bytes.
	WarehouseSHA256 string `json:"warehouse_sha256,omitempty"`
	// WarehouseIdentity is the file's fsutil.Identity once published: while the file keeps
	// it, an incremental build takes it to have these bytes without hashing it again.
	WarehouseIdentity *fsutil.Identity `json:"warehouse_identity,omitempty"`
	// RolledBack says sofpipe rollback put this batch's warehouse back: it has no
	// fingerprint or digest here, so the next batch rebuilds, in full.
	RolledBack bool `json:"rolled_back,omitempty"`
}

func readState(p string) (published, error) {
	var s published
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

func writeState(p string, s published) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(p, append(b, '\n'), 0o644)
}

// fingerprint identifies everything a warehouse build depends on: the program version, the
// SQL, the mart constants and the committed files. Equal fingerprints mean an equal build.
func fingerprint(version string, marts config.Marts, files []ledger.File) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "version %s\n", version)
	fmt.Fprintf(h, "program %s\n", programDigest())
	digest, err := sqlmodels.Digest()
	if err != nil {
		return "", err
	}
	for _, s := range digest {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	m, err := json.Marshal(marts)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "marts %s\n", m)
	for _, f := range files {
		fmt.Fprintf(h, "file %s %d %s %s\n", f.SHA256, f.Arrival, f.Status, strings.Join(f.Outputs, ","))
		// The lake files' digests: a file read again (verify --repair, reread) under the
		// same names is a different build.
		for _, p := range f.LakePaths() {
			fmt.Fprintf(h, "lake %s %s\n", p, f.LakeFiles[p].SHA256)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// programDigest is the SHA-256 of the running executable, so that a fingerprint changes
// with the program itself and not only with its version label (a build from a modified
// tree can carry an old one). Empty when the executable cannot be read.
//
// The executable is opened when the process starts (runningExecutable) and hashed through
// that handle when first needed: an install that replaces the file on disk while a
// process runs (the daemon lives for months) gives the path a new file, and the handle
// still reads the bytes this process is running.
func programDigest() string { return programDigestIn("") }

var programDigestOnce struct {
	sync.Once
	sum string
}

// programDigestIn is programDigest, taken from the cache in stateDir (a workspace's state/)
// when that cache describes the very file the handle reads: hashing 120 MB on every run
// was most of a night with nothing new (0.1 s). The first call decides for the process.
func programDigestIn(stateDir string) string {
	programDigestOnce.Do(func() {
		if runningExecutable != nil {
			programDigestOnce.sum, _ = cachedDigest(runningExecutable, stateDir)
		}
	})
	return programDigestOnce.sum
}

// digestCache is state/program-sha256.json: an executable's SHA-256 and the identity of
// the file it was taken from.
type digestCache struct {
	fsutil.Identity
	SHA256 string `json:"sha256"`
}

// cachedDigest returns the SHA-256 of the file f, from stateDir's cache when the cache was
// written for the same version of the file (fsutil.Identity), as fstat of f gives it now; otherwise it hashes f and, when stateDir is set, rewrites
// the cache. Where the system gives no device and inode, f is hashed every time.
func cachedDigest(f *os.File, stateDir string) (string, error) {
	var id digestCache
	haveID := false
	if info, err := f.Stat(); err == nil {
		id.Identity, haveID = fsutil.IdentityOf(info)
	}
	path := filepath.Join(stateDir, "program-sha256.json")
	if haveID && stateDir != "" {
		var c digestCache
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &c) == nil && c.SHA256 != "" {
			if id.SHA256 = c.SHA256; c == id {
				return c.SHA256, nil
			}
		}
	}
	sum, _, err := fsutil.SHA256Of(f)
	if err != nil {
		return "", fmt.Errorf("batch: hash the executable: %w", err)
	}
	id.SHA256 = sum
	if haveID && stateDir != "" {
		// A cache that cannot be written costs the next run a hash, nothing else.
		if b, err := json.Marshal(id); err == nil {
			_ = fsutil.WriteFileAtomic(path, append(b, '\n'), 0o644)
		}
	}
	return id.SHA256, nil
}

// runningExecutable is the executable this process runs, opened at start-up. On Linux
// /proc/self/exe names the very file the process was started from, even once its path
// names another; elsewhere the path os.Executable gives is opened at once.
var runningExecutable = func() *os.File {
	if f, err := os.Open("/proc/self/exe"); err == nil {
		return f
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil
	}
	return f
}()

// fileSHA256 returns the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	sum, _, err := fsutil.SHA256File(path)
	return sum, err
}
