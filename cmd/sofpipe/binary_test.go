package main

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// The tests that drive the real binary as an operator would build it once per test run.
var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

// TestMain removes the built binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// sofpipeBinary builds cmd/sofpipe into a folder any user can read and run, and returns its
// path. t.TempDir() cannot hold it: its folders are private to the user running the tests.
func sofpipeBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary: skipped in -short mode")
	}
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "sofpipe-bin-")
		if binaryErr != nil {
			return
		}
		if binaryErr = os.Chmod(binaryDir, 0o755); binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "sofpipe")
		cmd := exec.Command("go", "build", "-ldflags", "-X main.version=test", "-o", binaryPath, ".")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			binaryErr = &buildError{err: err, output: out.String()}
		}
	})
	if binaryErr != nil {
		t.Fatalf("build sofpipe: %v", binaryErr)
	}
	return binaryPath
}

type buildError struct {
	err    error
	output string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.output }

// serviceUser is the unprivileged account the binary runs as in these tests, as a real
// server runs sofpipe as its own user: nobody when the tests run as root, else the user
// running them.
type serviceUser struct {
	uid, gid int
	// wrap prefixes a command line so that it runs as the user (setpriv under root).
	wrap []string
}

// unprivileged returns the service user, or skips the test with the reason it cannot
// switch to one.
func unprivileged(t *testing.T) serviceUser {
	t.Helper()
	if os.Geteuid() != 0 {
		return serviceUser{uid: os.Getuid(), gid: os.Getgid()}
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("running as root without setpriv (util-linux): cannot run the binary as an unprivileged user")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("running as root without a 'nobody' user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return serviceUser{uid: uid, gid: gid, wrap: []string{setpriv, "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}}
}

// dir makes a folder owned by the user, with the given mode, reachable by it: the folders
// above a t.TempDir() are private to root, so the folder is made under a fresh 0755 one.
func (u serviceUser) dir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	top, err := os.MkdirTemp("", "sofpipe-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(top, "ws")
	if err := os.Mkdir(d, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(d, u.uid, u.gid); err != nil {
		t.Fatal(err)
	}
	return d
}

// chownTree gives every file and folder under root to the user, as a delivery by the
// service user (or one it may read and remove) would be.
func (u serviceUser) chownTree(t *testing.T, root string) {
	t.Helper()
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.uid, u.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// run runs the binary as the user and returns its exit code, stdout and stderr.
func (u serviceUser) run(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	argv := append(append(append([]string{}, u.wrap...), bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = os.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%v: %v", argv, err)
		}
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("%v: killed by %v\n%s", argv, ws.Signal(), stderr.String())
		}
	}
	return code, stdout.String(), stderr.String()
}

// fileOwner is the uid that owns a file.
func fileOwner(info os.FileInfo) int {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
