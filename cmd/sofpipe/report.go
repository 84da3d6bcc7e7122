package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/report"
	"github.com/evaluation-taskforce/sofpipe/pipeline/reportdata"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// reportCommand is `sofpipe report`: the HTML report of the published warehouse, or of one
// kept in warehouse/history/, made again from the file alone (the same bytes a batch
// wrote). It reads the warehouse read-only and needs no lock: pages appear by rename.
func reportCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", stderr)
	var common commonFlags
	common.register(fs)
	batchID := fs.String("batch", "", "the batch whose warehouse to report on: the published one (default) or one kept in warehouse/history/")
	out := fs.String("out", "", "write `DIR`/index.html instead of the workspace's reports/<batch>/ (and reports/latest/ for the published warehouse)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sofpipe report: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	ws, err := workspace.New(cfg.Workspace)
	if err != nil {
		return exitCode(stderr, err)
	}
	path, id, live, err := reportWarehouse(ctx, ws, *batchID)
	if errors.Is(err, batch.ErrNoSuchWarehouse) {
		fmt.Fprintf(stderr, "sofpipe: %v\n", err)
		return ExitUsage // a batch named that has no warehouse, as rollback says it
	}
	if err != nil {
		return exitCode(stderr, err)
	}
	start := time.Now()
	data, err := reportdata.Load(ctx, path)
	if err != nil {
		return exitCode(stderr, err)
	}
	page, err := report.Bytes(data)
	if err != nil {
		return exitCode(stderr, err)
	}
	dst := report.PagePath(ws.Reports(), id)
	if *out != "" {
		dst = filepath.Join(*out, "index.html")
		err = fsutil.WriteFileAtomic(dst, page, 0o644)
	} else {
		err = report.Publish(ws.Reports(), id, page, live)
	}
	if err != nil {
		return exitCode(stderr, fmt.Errorf("report: %w", err))
	}
	fmt.Fprintf(stdout, "report of batch %s: %s (%d bytes, %.2f s)\n", id, dst, len(page), time.Since(start).Seconds())
	return ExitOK
}

// reportWarehouse finds the warehouse of batch id (empty: the published one) and says
// whether it is the published one.
func reportWarehouse(ctx context.Context, ws workspace.Workspace, id string) (path, batchID string, live bool, err error) {
	livePath := ws.WarehouseFile()
	liveBatch, lerr := warehouse.BatchOf(ctx, livePath)
	if lerr != nil && !errors.Is(lerr, fs.ErrNotExist) {
		if _, serr := os.Stat(livePath); serr == nil {
			return "", "", false, lerr
		}
	}
	if id == "" || id == liveBatch {
		if lerr != nil {
			return "", "", false, fmt.Errorf("report: no published warehouse in %s", ws.Warehouse())
		}
		return livePath, liveBatch, true, nil
	}
	kept, err := warehouse.History(ws.WarehouseHistory())
	if err != nil {
		return "", "", false, fmt.Errorf("report: %w", err)
	}
	var names []string
	for _, p := range kept {
		b, _ := warehouse.HistoryBatch(p)
		if b == id {
			return p, b, false, nil
		}
		names = append(names, b)
	}
	return "", "", false, fmt.Errorf("report: %w of batch %q: the published one is %q, kept are %s", batch.ErrNoSuchWarehouse, id, liveBatch, strings.Join(names, ", "))
}
