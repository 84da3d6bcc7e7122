package config

import (
	"strings"
	"testing"
)

func TestServeDefaults(t *testing.T) {
	s := DefaultConfig().Serve
	if len(s.Schedules) != 1 || s.Schedules[0] != "CRON_TZ=Europe/London 0 2 * * *" || !s.CatchUp ||
		s.Watch.Enabled || s.Listen != "127.0.0.1:9464" || s.ShutdownGraceSeconds != 60 || s.LogFormat != "auto" {
		t.Errorf("serve defaults drifted from issue 9: %+v", s)
	}
}

func TestLoadServe(t *testing.T) {
	cfg, err := Load(writeConfig(t, `{"serve": {"schedules": ["*/2 * * * * *", "CRON_TZ=UTC 30 1 * * 1-5"], "watch": {"enabled": true, "settle_seconds": 1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Serve
	if len(s.Schedules) != 2 || !s.Watch.Enabled || s.Watch.SettleSeconds != 1 {
		t.Errorf("overrides not applied: %+v", s)
	}
	if !s.CatchUp || s.Watch.PollSeconds != DefaultWatchPollSeconds || s.Listen != DefaultListen {
		t.Errorf("defaults lost: %+v", s)
	}
	cfg, err = Load(writeConfig(t, `{"serve": {"schedules": []}}`))
	if err != nil || len(cfg.Serve.Schedules) != 0 {
		t.Errorf("an empty schedule list (watch and POST /run only) = %v, %v", cfg.Serve.Schedules, err)
	}
}

func TestLoadServeRejects(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"cron spec":   {`{"serve": {"schedules": ["0 2 * * *", "0 25 * * *"]}}`, "serve.schedules[1]"},
		"time zone":   {`{"serve": {"schedules": ["CRON_TZ=Europe/Lundon 0 2 * * *"]}}`, "serve.schedules[0]"},
		"poll":        {`{"serve": {"watch": {"poll_seconds": 0}}}`, "serve.watch.poll_seconds"},
		"settle":      {`{"serve": {"watch": {"settle_seconds": -1}}}`, "serve.watch.settle_seconds"},
		"listen":      {`{"serve": {"listen": "9464"}}`, "serve.listen"},
		"listen port": {`{"serve": {"listen": "127.0.0.1:http"}}`, "serve.listen"},
		"grace":       {`{"serve": {"shutdown_grace_seconds": -5}}`, "serve.shutdown_grace_seconds"},
		"log format":  {`{"serve": {"log_format": "xml"}}`, "serve.log_format"},
		"unknown key": {`{"serve": {"scheduls": []}}`, `unknown field "scheduls"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
