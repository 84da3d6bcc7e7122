package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/suggest"
)

// profileCommand is `sofpipe profile suggest`: a source profile for a layout sofpipe has
// not seen, printed as a config that validate --config and run --config take as it is.
func profileCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "suggest" {
		fmt.Fprintln(stderr, "usage: sofpipe profile suggest --dataset D [--name N] [--pattern P] [--default column=value]… FILE…|DIR…")
		return ExitUsage
	}
	fs := newFlagSet("profile suggest", stderr)
	dataset := fs.String("dataset", "", "the dataset the files are returns of: "+strings.Join(contract.Names(), ", "))
	name := fs.String("name", "", "the profile's name (default: suggested)")
	pattern := fs.String("pattern", "", "the profile's file pattern, relative to the inbox (default: NAME/*.csv)")
	defaults := map[string]string{}
	fs.Func("default", "column=value for a column the files do not carry (repeatable), e.g. project_id=UNALLOCATED", func(s string) error {
		col, v, ok := strings.Cut(s, "=")
		if !ok || col == "" {
			return fmt.Errorf("want column=value, got %q", s)
		}
		defaults[col] = v
		return nil
	})
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	ds, ok := contract.Lookup(*dataset)
	if !ok {
		fmt.Fprintf(stderr, "sofpipe profile suggest: give --dataset, one of %s\n", strings.Join(contract.Names(), ", "))
		return ExitUsage
	}
	for col := range defaults {
		if ds.Column(col) < 0 {
			fmt.Fprintf(stderr, "sofpipe profile suggest: --default %s: not a column of %s\n", col, ds.Name)
			return ExitUsage
		}
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "sofpipe profile suggest: give the files (or folders) of the new layout")
		return ExitUsage
	}
	files, err := expandArgs(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "sofpipe profile suggest: %v\n", err)
		return ExitUsage
	}
	res, err := suggest.Suggest(files, suggest.Options{Dataset: ds, Name: *name, Pattern: *pattern, Defaults: defaults})
	if err != nil {
		return exitCode(stderr, err)
	}
	// The config must load as it is printed: check it the way --config will.
	cfg := config.DefaultConfig()
	cfg.Profiles = []config.Profile{res.Profile}
	if err := cfg.Validate(); err != nil {
		return exitCode(stderr, fmt.Errorf("profile suggest made a profile that does not validate: %w", err))
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Profiles []config.Profile `json:"profiles"`
	}{[]config.Profile{res.Profile}}); err != nil {
		return exitCode(stderr, err)
	}
	for _, m := range res.Mappings {
		fmt.Fprintf(stderr, "%-28q → %-14s %-6s %s\n", m.Header, m.Column, m.Confidence, m.Why)
	}
	if len(res.Unplaced) > 0 {
		fmt.Fprintf(stderr, "not placed (ignored): %s\n", strings.Join(res.Unplaced, ", "))
	}
	if len(res.MissingRequired) > 0 {
		fmt.Fprintf(stderr, "required, but nothing in the files is evidence for: %s; map a header to it in header_aliases, or give --default column=value\n", strings.Join(res.MissingRequired, ", "))
	}
	return ExitOK
}
