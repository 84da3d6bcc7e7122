package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// ingestCommand converts one file to Parquet outside any workspace: the same decoding,
// checks and writers as a batch, without the ledger or the warehouse. It serves one-off
// conversions and the ingest benchmark.
func ingestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := newFlagSet("ingest", stderr)
	var common commonFlags
	common.register(flags)
	dataset := flags.String("dataset", "", "dataset of the file (default: from the profile, else the file's folder name)")
	profileName := flags.String("profile", "", "source profile from the config")
	out := flags.String("out", "", "folder to write the Parquet files and rejects into (required)")
	workers := flags.Int("workers", 0, "parsing goroutines (default: the config's, 0 = one per CPU)")
	cpuProfile := flags.String("cpuprofile", "", "write a CPU profile (pprof) of the ingest to this file")
	if code, ok := parseFlags(flags, args); !ok {
		return code
	}
	if flags.NArg() != 1 || *out == "" {
		fmt.Fprintln(stderr, "usage: sofpipe ingest -out DIR [-dataset D] [-profile P] FILE")
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	if *workers > 0 {
		cfg.Ingest.Workers = *workers
	}
	file := flags.Arg(0)
	ds, profile, err := pickDataset(cfg, file, *dataset, *profileName)
	if err != nil {
		fmt.Fprintf(stderr, "sofpipe ingest: %s: %v\n", file, err)
		return ExitUsage
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return exitCode(stderr, err)
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return exitCode(stderr, err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return exitCode(stderr, err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	opt := ingest.OptionsFrom(cfg.Ingest)
	opt.BatchID = "ingest-" + start.UTC().Format("20060102T150405Z")
	opt.StageDir = *out
	opt.Logger = common.logger(stderr)
	if info, err := os.Stat(file); err == nil {
		opt.Progress = newProgress(stderr).File(file, info.Size())
	}
	res, err := ingest.File(ctx, ingest.Input{Path: file, Source: file, Dataset: ds, Profile: profile}, opt)
	if err != nil {
		return exitCode(stderr, err)
	}
	summary := struct {
		File            string                  `json:"file"`
		SHA256          string                  `json:"sha256"`
		Dataset         string                  `json:"dataset"`
		Status          ingest.Status           `json:"status"`
		Reason          ingest.Reason           `json:"reason,omitempty"`
		Message         string                  `json:"message,omitempty"`
		RowsRead        int64                   `json:"rows_read"`
		RowsAccepted    int64                   `json:"rows_accepted"`
		RowsRejected    int64                   `json:"rows_rejected"`
		RejectsByReason map[ingest.Reason]int64 `json:"rejects_by_reason,omitempty"`
		Outputs         []string                `json:"outputs"`
		RejectsFile     string                  `json:"rejects_file,omitempty"`
		Seconds         float64                 `json:"seconds"`
	}{file, res.SHA256, ds.Name, res.Status, res.Reason, res.Message, res.RowsRead, res.RowsAccepted, res.RowsRejected, res.RejectsByReason, res.Outputs, res.RejectsFile, time.Since(start).Seconds()}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(summary)
	if res.Status != ingest.StatusIngested {
		return ExitInvalid
	}
	return ExitOK
}
