package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/serve"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// Exit codes, the one place they are decided. cron, systemd and scripts can act on them.
const (
	ExitOK           = 0 // done
	ExitFailure      = 1 // the batch or command failed; the last published results stand
	ExitUsage        = 2 // bad flags or arguments
	ExitChecksFailed = 3 // data tests failed: the new warehouse was not published
	ExitLocked       = 4 // another sofpipe process owns the workspace
	ExitInvalid      = 5 // validate: at least one file would not be accepted in full
	ExitDamaged      = 6 // verify: damage found (and, with --repair, not all of it repaired)
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run one batch: inbox → lake → warehouse → exports", runCommand},
		{"validate", "check returns without ingesting them", validateCommand},
		{"profile", "profile suggest: a source profile for a new layout, from its files", profileCommand},
		{"ingest", "convert one file to Parquet, outside any workspace", ingestCommand},
		{"query", "run read-only SQL against the published warehouse", queryCommand},
		{"runs", "list the batch history", runsCommand},
		{"rollback", "put a kept warehouse back in place of the published one", rollbackCommand},
		{"report", "write the HTML report of the published or a kept warehouse", reportCommand},
		{"reread", "read stored originals again with today's config (after a profile was corrected)", rereadCommand},
		{"verify", "check store, lake and warehouses against their digests; --repair mends", verifyCommand},
		{"serve", "run as a daemon: schedules, inbox watch, /metrics, /runs, POST /run", serveCommand},
		{"config", "config check: print the effective config, or what is wrong with it", configCommand},
		{"version", "print the version", versionCommand},
	}
}

// Run is the whole program: it parses args, runs one command and returns its exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sofpipe: unknown command %q\n\n", args[0])
	usage(stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sofpipe <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sofpipe <command> -h' for a command's flags.")
}

// commonFlags are the flags every workspace command takes.
type commonFlags struct {
	workspace string
	config    string
	verbose   bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.workspace, "workspace", "", "workspace folder (default: the config's, else ./"+config.DefaultWorkspace+")")
	fs.StringVar(&c.config, "config", "", "JSON config file, or - for standard input (default: built-in defaults)")
	fs.BoolVar(&c.verbose, "v", false, "log debug detail")
}

// load returns the config with the workspace flag applied.
func (c *commonFlags) load() (config.Config, error) {
	cfg := config.DefaultConfig()
	switch c.config {
	case "":
	case "-": // the effective config, as the daemon hands it to a batch it runs
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return cfg, fmt.Errorf("config: standard input: %w", err)
		}
		if cfg, err = config.Parse("standard input", b); err != nil {
			return cfg, err
		}
	default:
		var err error
		if cfg, err = config.Load(c.config); err != nil {
			return cfg, err
		}
	}
	if c.workspace != "" {
		cfg.Workspace = c.workspace
	}
	return cfg, cfg.Validate()
}

func (c *commonFlags) logger(stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if c.verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	// A batch the daemon runs logs as the daemon does (serve.log_format), each line with
	// what started it.
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if os.Getenv(serve.EnvLogFormat) == config.LogJSON {
		h = slog.NewJSONHandler(stderr, opts)
	}
	log := slog.New(h)
	if t := os.Getenv(serve.EnvTrigger); t != "" {
		log = log.With("trigger", t, "pid", os.Getpid())
	}
	return log
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sofpipe "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and reports the exit code to return if parsing ended the command.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	return 0, true
}

// exitCode maps an error to the exit code scripts see, printing it once.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "sofpipe: %s\n", strings.TrimPrefix(err.Error(), "sofpipe: "))
	switch {
	case errors.Is(err, fsutil.ErrLocked):
		return ExitLocked
	case errors.Is(err, warehouse.ErrChecksFailed):
		return ExitChecksFailed
	}
	return ExitFailure
}
