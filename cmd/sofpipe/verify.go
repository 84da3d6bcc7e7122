package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/verify"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

func verifyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", stderr)
	var common commonFlags
	common.register(fs)
	repair := fs.Bool("repair", false, "mend what is found: read damaged or missing lake files again from the stored originals, move damaged originals and warehouses aside, remove uncounted lake files, and build the warehouse again in full when its inputs changed")
	format := fs.String("format", "text", "output format: text, or json (one object)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 || (*format != "text" && *format != "json") {
		fmt.Fprintln(stderr, "usage: sofpipe verify [--repair] [--format text|json] [flags]")
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
	// A batch writing while the workspace is checked would look like damage.
	lock, err := ws.Lock()
	if err != nil {
		return exitCode(stderr, err)
	}
	defer lock.Unlock()
	log := common.logger(stderr)

	report, err := verify.Check(ctx, ws)
	if err != nil {
		return exitCode(stderr, err)
	}
	result := struct {
		Found    verify.Report    `json:"found"`
		Repaired *verify.Repaired `json:"repaired,omitempty"`
		After    *verify.Report   `json:"after,omitempty"`
		Rebuilt  string           `json:"rebuilt,omitempty"`
	}{Found: report}
	final := report
	if *repair && !report.Sound() {
		fixed, err := verify.Repair(ctx, ws, cfg, report, log)
		if err != nil {
			return exitCode(stderr, err)
		}
		result.Repaired = &fixed
		if fixed.Rebuild {
			out, err := batch.Run(ctx, cfg, batch.Options{Version: version, Logger: log, ForceBuild: true, LockHeld: true})
			if err != nil {
				return exitCode(stderr, fmt.Errorf("verify: the lake was repaired, but the warehouse could not be built again: %w", err))
			}
			result.Rebuilt = out.Run.BatchID
			if err := verify.RebuildDone(ws); err != nil {
				return exitCode(stderr, err)
			}
		}
		after, err := verify.Check(ctx, ws)
		if err != nil {
			return exitCode(stderr, err)
		}
		result.After, final = &after, after
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(result)
	} else {
		printVerify(stdout, result.Found, result.Repaired, result.Rebuilt, result.After)
	}
	if !final.Sound() {
		return ExitDamaged
	}
	return ExitOK
}

func printVerify(w io.Writer, found verify.Report, fixed *verify.Repaired, rebuilt string, after *verify.Report) {
	for _, p := range found.Problems {
		fmt.Fprintln(w, p)
	}
	for _, n := range found.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "checked %d stored originals, %d lake files, %d warehouses: %s\n", found.Originals, found.LakeFiles, found.Warehouses, verdict(found))
	if fixed == nil {
		if !found.Sound() {
			fmt.Fprintln(w, "run 'sofpipe verify --repair' to mend what can be mended")
		}
		return
	}
	for _, f := range fixed.Fixed {
		fmt.Fprintf(w, "repaired: %s\n", f)
	}
	for _, p := range fixed.Left {
		fmt.Fprintf(w, "not repaired: %s\n", p)
	}
	if rebuilt != "" {
		fmt.Fprintf(w, "the warehouse was built again in full (batch %s)\n", rebuilt)
	}
	fmt.Fprintf(w, "after repair: %s\n", verdict(*after))
}

func verdict(r verify.Report) string {
	if r.Sound() {
		return "all sound"
	}
	return fmt.Sprintf("%d problem(s)", len(r.Problems))
}
