package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// fileReport is validate's verdict on one file.
type fileReport struct {
	File         string          `json:"file"`
	Dataset      string          `json:"dataset"`
	Profile      string          `json:"profile,omitempty"`
	Accepted     bool            `json:"accepted"`
	Status       string          `json:"status"`
	Reason       string          `json:"reason,omitempty"`
	Message      string          `json:"message,omitempty"`
	Encoding     string          `json:"encoding,omitempty"`
	RowsRead     int64           `json:"rows_read"`
	RowsAccepted int64           `json:"rows_accepted"`
	RowsRejected int64           `json:"rows_rejected"`
	Problems     []ingest.Reject `json:"problems"`
	// ProblemsNotShown counts rejected rows beyond -max-problems: the counts above are
	// always complete, only the listing is cut, so memory stays flat on a huge bad file.
	ProblemsNotShown int64 `json:"problems_not_shown"`
}

func validateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	var common commonFlags
	common.register(fs)
	dataset := fs.String("dataset", "", "dataset of every file (default: from the profile, else the file's folder name)")
	profileName := fs.String("profile", "", "source profile from the config to read every file with")
	format := fs.String("format", "text", "output format: text or json")
	maxProblems := fs.Int("max-problems", 1000, "list at most this many problems per file (the counts stay complete)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: sofpipe validate [flags] FILE…")
		return ExitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "sofpipe validate: -format must be text or json, not %q\n", *format)
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	var reports []fileReport
	for _, file := range fs.Args() {
		ds, profile, err := pickDataset(cfg, file, *dataset, *profileName)
		if err != nil {
			fmt.Fprintf(stderr, "sofpipe validate: %s: %v\n", file, err)
			return ExitUsage
		}
		rep, err := validateFile(ctx, cfg, file, ds, profile, max(*maxProblems, 1))
		if err != nil {
			return exitCode(stderr, err)
		}
		reports = append(reports, rep)
	}
	code := ExitOK
	for _, r := range reports {
		if !r.Accepted {
			code = ExitInvalid
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(reports)
		return code
	}
	for _, r := range reports {
		printReport(stdout, r)
	}
	return code
}

func pickDataset(cfg config.Config, file, dataset, profileName string) (*contract.Dataset, *config.Profile, error) {
	var profile *config.Profile
	if profileName != "" {
		if profile = cfg.ProfileNamed(profileName); profile == nil {
			return nil, nil, fmt.Errorf("no profile named %q in the config", profileName)
		}
	}
	if profile == nil && dataset == "" {
		// Patterns are relative to the inbox; a file checked elsewhere matches on its
		// trailing path elements, longest first.
		parts := strings.Split(filepath.ToSlash(file), "/")
		for k := 0; k < len(parts) && profile == nil; k++ {
			profile = cfg.ProfileFor(strings.Join(parts[k:], "/"))
		}
	}
	switch {
	case dataset != "":
	case profile != nil:
		dataset = profile.Dataset
	default:
		dataset = filepath.Base(filepath.Dir(file))
	}
	ds, ok := contract.Lookup(dataset)
	if !ok {
		return nil, nil, fmt.Errorf("cannot tell the dataset: give -dataset (one of %s)", strings.Join(contract.Names(), ", "))
	}
	return ds, profile, nil
}

func validateFile(ctx context.Context, cfg config.Config, file string, ds *contract.Dataset, profile *config.Profile, maxProblems int) (fileReport, error) {
	rep := fileReport{File: file, Dataset: ds.Name}
	if profile != nil {
		rep.Profile = profile.Name
	}
	opt := ingest.OptionsFrom(cfg.Ingest)
	opt.KeepRejects = maxProblems // no StageDir: validate only, nothing written
	res, err := ingest.File(ctx, ingest.Input{Path: file, Source: file, Dataset: ds, Profile: profile}, opt)
	if err != nil {
		return rep, err
	}
	rep.Status, rep.Reason, rep.Message, rep.Encoding = string(res.Status), string(res.Reason), res.Message, res.Encoding
	rep.RowsRead, rep.RowsAccepted, rep.RowsRejected = res.RowsRead, res.RowsAccepted, res.RowsRejected
	rep.Problems = res.FirstRejects
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Line < rep.Problems[j].Line })
	if rep.Problems == nil {
		rep.Problems = []ingest.Reject{}
	}
	rep.ProblemsNotShown = res.RowsRejected - int64(len(rep.Problems))
	rep.Accepted = res.Status == ingest.StatusIngested && res.RowsRejected == 0
	return rep, nil
}

func printReport(w io.Writer, r fileReport) {
	if r.Status == string(ingest.StatusRejected) {
		fmt.Fprintf(w, "%s: %s: file rejected: %s\n", r.File, r.Reason, r.Message)
		return
	}
	for _, p := range r.Problems {
		if p.Reason == ingest.ReasonFileQuarantined {
			continue
		}
		col := ""
		if p.Column != "" {
			col = p.Column + ":"
		}
		fmt.Fprintf(w, "%s:%d:%s %s: %s\n", r.File, p.Line, col, p.Reason, p.Message)
	}
	if r.ProblemsNotShown > 0 && r.Status != string(ingest.StatusQuarantined) {
		fmt.Fprintf(w, "%s: … and %d more rejected rows not listed (raise -max-problems to see them)\n", r.File, r.ProblemsNotShown)
	}
	verdict := "accepted"
	switch {
	case r.Status == string(ingest.StatusQuarantined):
		verdict = "would be quarantined: " + r.Message
	case !r.Accepted:
		verdict = fmt.Sprintf("accepted in part: %d rows would be rejected", r.RowsRejected)
	}
	fmt.Fprintf(w, "%s: %s (dataset %s, %d rows read, %d accepted, %d rejected)\n", r.File, verdict, r.Dataset, r.RowsRead, r.RowsAccepted, r.RowsRejected)
}
