// Package schedule decides when sofpipe's daemon runs a batch: it parses the config's cron
// specs (robfig/cron syntax, optional seconds field, optional CRON_TZ=), gives the next and
// previous scheduled instants across all of them, and decides whether a scheduled batch
// was missed while the process was down. Everything here is a pure function of times and
// history: nothing sleeps, reads a clock or starts a batch. The daemon (package serve) owns
// the timers; tests pin every instant.
//
// A wall-clock spec fires once per matching wall-clock time, also on clock-change nights:
// robfig/cron alone fires twice in an hour the clocks go back over and never in an hour the
// clocks skip. See Spec.Next.
package schedule

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Parser reads the specs of the config's serve.schedules: five fields, or six with a
// leading seconds field, a CRON_TZ= (or TZ=) prefix, or a descriptor such as @daily or
// @every 1h.
var Parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Spec is one parsed schedule. It satisfies cron.Schedule, so the daemon hands it to
// robfig/cron's runner and the runner fires on the instants Next gives.
type Spec struct {
	Text  string
	inner cron.Schedule
}

// ParseSpec parses one spec.
func ParseSpec(text string) (Spec, error) {
	s, err := Parser.Parse(text)
	if err != nil {
		return Spec{}, fmt.Errorf("schedule: %q: %w", text, err)
	}
	return Spec{Text: text, inner: s}, nil
}

// Next returns the first instant after t at which the spec fires, or the zero time if it
// never does. The result is in t's location.
//
// For a spec at a fixed hour (its hour field does not match every hour) the result is
// corrected on the nights the clocks change in the spec's zone:
//   - Clocks go back (an hour of wall-clock times happens twice): it fires on the first
//     pass only. robfig/cron alone fires on both.
//   - Clocks go forward (an hour of wall-clock times never happens): a time in the skipped
//     hour fires once, at the first instant after the jump, as ISC cron does. robfig/cron
//     alone does not fire that night at all.
//
// A spec that matches every hour ("*/10 * * * *", "* * * * * *") is an interval and keeps
// robfig/cron's behaviour: it fires through a repeated hour as it does through any other.
func (s Spec) Next(t time.Time) time.Time {
	spec, ok := s.inner.(*cron.SpecSchedule)
	if !ok || spec.Hour&allHours == allHours {
		return s.inner.Next(t)
	}
	loc := spec.Location
	if loc == time.Local {
		loc = t.Location() // robfig/cron reads a spec without CRON_TZ in t's location
	}
	// A repeated wall-clock time is skipped by moving past it and asking again; a day
	// holds at most one repeated hour, so a few rounds suffice. The bound guards a zone
	// database that would say otherwise.
	for range 48 {
		c := spec.Next(t)
		if c.IsZero() {
			return c
		}
		if g, ok := firesInGap(spec, loc, t, c); ok {
			return g.In(t.Location())
		}
		if !repeatedWallClock(c.In(loc)) {
			return c
		}
		t = c
	}
	return spec.Next(t)
}

// allHours is the hour field of a spec that matches every hour (bits 0-23).
const allHours = 1<<24 - 1

// repeatedWallClock reports whether c's wall-clock reading already happened earlier, on
// the first pass through an hour the clocks went back over.
func repeatedWallClock(c time.Time) bool {
	start, _ := c.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, cur := c.Zone()
	_, prev := start.Add(-time.Nanosecond).Zone()
	if prev <= cur {
		return false
	}
	return c.Before(start.Add(time.Duration(prev-cur) * time.Second))
}

// firesInGap reports whether a wall-clock time the spec matches was skipped by the clocks
// going forward in (after, before], and if so returns the instant of the jump: the first
// instant after the skipped times, where the spec fires in their place.
func firesInGap(spec *cron.SpecSchedule, loc *time.Location, after, before time.Time) (time.Time, bool) {
	x := after.In(loc)
	for {
		_, end := x.ZoneBounds()
		if end.IsZero() || end.After(before) {
			return time.Time{}, false
		}
		_, off := x.Zone()
		_, next := end.Zone()
		if next > off {
			// The skipped wall-clock times are those from end to end+(next-off), read in
			// the offset before the jump. A copy of the spec in that fixed offset finds
			// them.
			fixed := *spec
			fixed.Location = time.FixedZone("before-jump", off)
			n := fixed.Next(end.Add(-time.Second))
			if !n.IsZero() && n.Before(end.Add(time.Duration(next-off)*time.Second)) {
				return end, true
			}
		}
		x = end.In(loc)
	}
}

// Prev returns the last instant at or before t at which the spec fired, or the zero time
// when there is none within about five years, or when the spec is an interval
// (@every …) that has no fixed instants.
func (s Spec) Prev(t time.Time) time.Time {
	if _, ok := s.inner.(cron.ConstantDelaySchedule); ok {
		return time.Time{}
	}
	// Walk forward from ever further back until a window holds a firing; the short windows
	// first keep a spec that fires every second cheap.
	for _, back := range []time.Duration{2 * time.Minute, time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour} {
		var last time.Time
		for n := s.Next(t.Add(-back)); !n.IsZero() && !n.After(t); n = s.Next(n) {
			last = n
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

// Schedule is the union of the config's specs: it fires whenever any of them does.
type Schedule []Spec

// Parse parses every spec; the error names each spec that is wrong by its position.
func Parse(texts []string) (Schedule, error) {
	var errs []error
	var s Schedule
	for i, t := range texts {
		spec, err := ParseSpec(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		s = append(s, spec)
	}
	return s, errors.Join(errs...)
}

// Next returns the first instant after t at which any spec fires, or the zero time.
func (s Schedule) Next(t time.Time) time.Time {
	var first time.Time
	for _, spec := range s {
		if n := spec.Next(t); !n.IsZero() && (first.IsZero() || n.Before(first)) {
			first = n
		}
	}
	return first
}

// Prev returns the last instant at or before t at which any spec fired, or the zero time.
func (s Schedule) Prev(t time.Time) time.Time {
	var last time.Time
	for _, spec := range s {
		if p := spec.Prev(t); p.After(last) {
			last = p
		}
	}
	return last
}

// Missed decides the catch-up at start: it returns the last scheduled instant at or before
// now, and true when no batch started at or after it (the process was down then). starts
// are the start times of the batches that count as having done the scheduled work; the
// caller leaves out batches that were cancelled or abandoned part way, whose work is still
// to do. A schedule with no fixed instants never misses.
func Missed(s Schedule, starts []time.Time, now time.Time) (time.Time, bool) {
	due := s.Prev(now)
	if due.IsZero() {
		return due, false
	}
	for _, st := range starts {
		if !st.Before(due) {
			return due, false
		}
	}
	return due, true
}
