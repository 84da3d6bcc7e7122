package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// fileReport is validate's verdict on one file.
type fileReport struct {
	File         string `json:"file"`
	Dataset      string `json:"dataset"`
	Profile      string `json:"profile,omitempty"`
	Accepted     bool   `json:"accepted"`
	Status       string `json:"status"`
	Reason       string `json:"reason,omitempty"`
	Message      string `json:"message,omitempty"`
	Encoding     string `json:"encoding,omitempty"`
	RowsRead     int64  `json:"rows_read"`
	RowsAccepted int64  `json:"rows_accepted"`
	RowsRejected int64  `json:"rows_rejected"`
	// HeaderLine is the header's line (past 1 when title lines sit above it); the
	// SkippedLines above it are neither rows nor rejects.
	HeaderLine   int             `json:"header_line"`
	SkippedLines []string        `json:"skipped_lines,omitempty"`
	MoneyRounded int64           `json:"money_rounded,omitempty"`
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
		fmt.Fprintln(stderr, "usage: sofpipe validate [flags] FILE…|DIR…")
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
	files, err := expandArgs(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "sofpipe validate: %v\n", err)
		return ExitUsage
	}
	var reports []fileReport
	for _, file := range files {
		if _, err := os.Stat(file); err != nil {
			return exitCode(stderr, fmt.Errorf("validate: %w", err))
		}
		ds, profile, err := pickDataset(cfg, file, *dataset, *profileName)
		if err != nil && len(files) > 1 {
			// One file of a folder that no profile or folder name places: said for that
			// file, as a batch would reject it, and the others are still checked.
			reports = append(reports, fileReport{File: file, Status: "rejected", Reason: string(ingest.ReasonUnknownDataset), Message: err.Error(), Problems: []ingest.Reject{}})
			continue
		}
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
	if len(reports) > 1 || len(files) != len(fs.Args()) {
		printTotals(stdout, reports)
	}
	return code
}

// expandArgs replaces each folder among args by the files under it, in name order, so a
// department (or an operator trying a profile on a collection of returns) can check a
// whole folder at once. Hidden files and folders are passed over, as the inbox does.
func expandArgs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil || !info.IsDir() {
			out = append(out, a) // a missing file is reported by its own read
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != a && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no files in the folder", a)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// fileVerdict is the one word (or two) a file's line and the totals use.
func fileVerdict(r fileReport) string {
	switch {
	case r.Status == string(ingest.StatusRejected):
		return "rejected"
	case r.Status == string(ingest.StatusQuarantined):
		return "quarantined"
	case !r.Accepted:
		return "in part"
	}
	return "accepted"
}

// printTotals ends a check of several files: how many would be taken whole, in part, held
// back or refused, and the rows, which always add up.
func printTotals(w io.Writer, reports []fileReport) {
	n := map[string]int{}
	var read, accepted, rejected int64
	for _, r := range reports {
		n[fileVerdict(r)]++
		read, accepted, rejected = read+r.RowsRead, accepted+r.RowsAccepted, rejected+r.RowsRejected
	}
	fmt.Fprintf(w, "%d files: %d accepted, %d accepted in part, %d quarantined, %d rejected; rows read %d = %d accepted + %d rejected\n",
		len(reports), n["accepted"], n["in part"], n["quarantined"], n["rejected"], read, accepted, rejected)
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
	rep.HeaderLine, rep.SkippedLines, rep.MoneyRounded = res.HeaderLine, res.SkippedLines, res.MoneyRounded
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
	var extra string
	if r.HeaderLine > 1 {
		extra += fmt.Sprintf("; header on line %d", r.HeaderLine)
	}
	if r.MoneyRounded > 0 {
		extra += fmt.Sprintf("; %d amounts rounded to the penny", r.MoneyRounded)
	}
	if first := firstProblem(r); first != nil {
		extra += fmt.Sprintf("; first: %s at line %d", first.Reason, first.Line)
	}
	fmt.Fprintf(w, "%s: %s (dataset %s, %d rows read, %d accepted, %d rejected%s)\n", r.File, verdict, r.Dataset, r.RowsRead, r.RowsAccepted, r.RowsRejected, extra)
}

// firstProblem is the first rejected row for its own reason (not a quarantined good row).
func firstProblem(r fileReport) *ingest.Reject {
	for i := range r.Problems {
		if r.Problems[i].Reason != ingest.ReasonFileQuarantined {
			return &r.Problems[i]
		}
	}
	return nil
}
