// Package testfiles lays out files for the tests of the other packages: the bundled
// fixtures copied into a temporary workspace's inbox, as a department would deliver them.
// Nothing in the program imports it.
package testfiles

import (
	"io/fs"
	"os"
	"path/filepath"
)

// CopyTree copies every file under src to the same relative path under dst, making the
// folders it needs.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
