package ingest

import (
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// DescribeFile reads the Parquet file at path and returns what the ledger keeps of it: the
// SHA-256 of its bytes, its size and its rows (from its footer), so that a byte that rots
// or a file edited by hand is found (sofpipe verify, and every build).
func DescribeFile(path string) (ledger.LakeFile, error) {
	var d ledger.LakeFile
	var err error
	if d.SHA256, d.Bytes, err = fsutil.SHA256File(path); err != nil {
		return d, err
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return d, fmt.Errorf("ingest: %s is not a readable Parquet file: %w", path, err)
	}
	defer pf.Close()
	d.Rows = pf.NumRows()
	return d, nil
}
