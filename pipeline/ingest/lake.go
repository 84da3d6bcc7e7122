package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// IntoLake reads one stored original into the lake: File writes its Parquet under
// opt.StageDir, each staged file is described (ledger.LakeFile: digest, size, rows) and
// then renamed into lakeDir, replacing a file of the same name. The caller commits the
// ledger record afterwards: until it does, the lake's readers ignore the new files, and a
// rerun after a crash writes them again. The batch reads deliveries this way, and
// sofpipe verify --repair and sofpipe reread read stored originals again. accept, when
// not nil, sees the result before anything reaches the lake and may refuse it (the staged
// files are then removed).
func IntoLake(ctx context.Context, in Input, opt Options, lakeDir string, accept func(Result) error) (Result, map[string]ledger.LakeFile, error) {
	res, err := File(ctx, in, opt)
	if err != nil {
		return res, nil, err
	}
	if accept != nil {
		if err := accept(res); err != nil {
			os.RemoveAll(opt.StageDir)
			return res, nil, err
		}
	}
	paths := append([]string(nil), res.Outputs...)
	if res.RejectsFile != "" {
		paths = append(paths, res.RejectsFile)
	}
	described := make(map[string]ledger.LakeFile, len(paths))
	for _, rel := range paths {
		d, err := DescribeFile(filepath.Join(opt.StageDir, filepath.FromSlash(rel)))
		if err != nil {
			return res, nil, err
		}
		described[rel] = d
	}
	for _, rel := range paths {
		dst := filepath.Join(lakeDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return res, nil, fmt.Errorf("ingest: %w", err)
		}
		if err := fsutil.RenameDurable(filepath.Join(opt.StageDir, filepath.FromSlash(rel)), dst); err != nil {
			return res, nil, fmt.Errorf("ingest: %w", err)
		}
	}
	return res, described, nil
}

// ReadSettings is how a file was read, kept with its ledger record (ledger.File.ReadWith)
// so that its stored original can be read again the same way.
type ReadSettings struct {
	Ingest  config.Ingest   `json:"ingest"`
	Profile *config.Profile `json:"profile,omitempty"`
}
