package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/serve"
)

// serveCommand is `sofpipe serve`: flags and config resolved here, then one serve.Run
// until the context (SIGTERM, SIGINT: main.go) is cancelled.
func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	var common commonFlags
	common.register(fs)
	listen := fs.String("listen", "", "HTTP address for /healthz, /readyz, /metrics, /runs and POST /run (default: the config's serve.listen, "+config.DefaultListen+")")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sofpipe serve: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	cfg, err := common.load()
	if err == nil && *listen != "" {
		cfg.Serve.Listen = *listen
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "sofpipe serve: %v\n", err)
		return ExitUsage
	}
	log := serveLogger(stderr, cfg.Serve.LogFormat, common.verbose).With("pid", os.Getpid())
	format := cfg.Serve.LogFormat
	if _, isJSON := log.Handler().(*slog.JSONHandler); format == config.LogAuto {
		format = map[bool]string{true: config.LogJSON, false: config.LogText}[isJSON]
	}
	err = serve.Run(ctx, cfg, serve.Options{Version: version, Logger: log, Executable: executable(), LogFormat: format, Stderr: stderr})
	return exitCode(stderr, err)
}

// serveLogger writes text to a terminal and JSON otherwise (a journal, a container's log
// collector), unless serve.log_format says which.
func serveLogger(w io.Writer, format string, verbose bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if verbose {
		opts.Level = slog.LevelDebug
	}
	if format == config.LogAuto {
		format = config.LogJSON
		if f, ok := w.(*os.File); ok {
			if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
				format = config.LogText
			}
		}
	}
	if format == config.LogText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// executable is this program, for the daemon's batches: on Linux /proc/self/exe, the file
// this process was started from even after an upgrade renamed another over its path, so
// that the daemon's batches run the program the daemon runs.
func executable() string {
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}
