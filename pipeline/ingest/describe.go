package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// DescribeFile reads the Parquet file at path and returns what the ledger keeps of it: the
// SHA-256 of its bytes, its size and its rows (from its footer), so that a byte that rots
// or a file edited by hand is found (sofpipe verify, and every build).
func DescribeFile(path string) (ledger.LakeFile, error) {
	var d ledger.LakeFile
	f, err := os.Open(path)
	if err != nil {
		return d, err
	}
	defer f.Close()
	h := sha256.New()
	if d.Bytes, err = io.Copy(h, f); err != nil {
		return d, fmt.Errorf("ingest: %s: %w", path, err)
	}
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return d, fmt.Errorf("ingest: %s is not a readable Parquet file: %w", path, err)
	}
	defer pf.Close()
	d.Rows = pf.NumRows()
	return d, nil
}

// HashFile returns the SHA-256 of the file at path, hex.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
