package config

import (
	"fmt"
	"net"
	"strconv"

	"github.com/evaluation-taskforce/sofpipe/pipeline/schedule"
)

// Defaults of the serve section.
const (
	// DefaultSchedule is 02:00 UK time every night, GMT or BST, once on both clock-change
	// nights (see schedule.Spec.Next).
	DefaultSchedule             = "CRON_TZ=Europe/London 0 2 * * *"
	DefaultListen               = "127.0.0.1:9464"
	DefaultShutdownGraceSeconds = 60
	DefaultWatchPollSeconds     = 30
	// DefaultWatchSettleSeconds is long enough for a transfer job that pauses between
	// files of one delivery, so a burst of files makes one batch.
	DefaultWatchSettleSeconds = 120
)

// Log formats of serve.log_format.
const (
	LogAuto = "auto" // text on a terminal, JSON otherwise
	LogText = "text"
	LogJSON = "json"
)

// Serve configures the long-running `sofpipe serve` daemon. A single `sofpipe run` reads
// none of it.
type Serve struct {
	// Schedules are cron specs: five fields, or six with a leading seconds field, each with
	// an optional CRON_TZ=<zone> prefix (without one, the machine's local time), or a
	// descriptor such as @daily. A batch starts whenever any of them fires. An empty list
	// schedules nothing (the watch and POST /run still start batches).
	Schedules []string `json:"schedules"`
	// CatchUp runs one batch at start when the last scheduled instant passed with no batch
	// started at or after it (the server was down at 02:00).
	CatchUp bool `json:"catch_up"`
	// Watch starts a batch when deliveries in the inbox settle.
	Watch Watch `json:"watch"`
	// Listen is the HTTP address for /healthz, /readyz, /metrics, /runs and POST /run.
	// Loopback by default: the endpoints have no authentication.
	Listen string `json:"listen"`
	// ShutdownGraceSeconds is how long a running batch may take to finish after SIGTERM
	// before it is cancelled at its next safe point.
	ShutdownGraceSeconds int `json:"shutdown_grace_seconds"`
	// LogFormat is "auto" (text on a terminal, JSON otherwise), "text" or "json".
	LogFormat string `json:"log_format"`
}

// Watch polls the inbox. Polling, not file-change notifications, so that it works on the
// network shares departments deliver to, where notifications do not arrive.
type Watch struct {
	Enabled bool `json:"enabled"`
	// PollSeconds is how often the inbox is listed.
	PollSeconds int `json:"poll_seconds"`
	// SettleSeconds is how long every file in the inbox must have kept its size and
	// modification time before a batch starts.
	SettleSeconds int `json:"settle_seconds"`
}

// DefaultServe returns the serve section's defaults.
func DefaultServe() Serve {
	return Serve{
		Schedules:            []string{DefaultSchedule},
		CatchUp:              true,
		Watch:                Watch{PollSeconds: DefaultWatchPollSeconds, SettleSeconds: DefaultWatchSettleSeconds},
		Listen:               DefaultListen,
		ShutdownGraceSeconds: DefaultShutdownGraceSeconds,
		LogFormat:            LogAuto,
	}
}

// validate checks the serve section, naming each key that is wrong. Cron specs are parsed
// here, so a typo fails `sofpipe config check` and the daemon's start, not a night later.
func (s *Serve) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("serve.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	for i, spec := range s.Schedules {
		if _, err := schedule.ParseSpec(spec); err != nil {
			bad("schedules["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	if s.Watch.PollSeconds < 1 {
		bad("watch.poll_seconds", "must be at least 1, got %d", s.Watch.PollSeconds)
	}
	if s.Watch.SettleSeconds < 0 {
		bad("watch.settle_seconds", "must be 0 or more, got %d", s.Watch.SettleSeconds)
	}
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		bad("listen", "must be host:port, for example %s: %v", DefaultListen, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("listen", "port %q is not a number 0-65535", port)
	}
	if s.ShutdownGraceSeconds < 0 {
		bad("shutdown_grace_seconds", "must be 0 or more, got %d", s.ShutdownGraceSeconds)
	}
	switch s.LogFormat {
	case LogAuto, LogText, LogJSON:
	default:
		bad("log_format", "must be %q, %q or %q, got %q", LogAuto, LogText, LogJSON, s.LogFormat)
	}
	return errs
}
