package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func mustParse(t *testing.T, specs ...string) Schedule {
	t.Helper()
	s, err := Parse(specs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// firings lists every instant the schedule fires in [from, to).
func firings(s Schedule, from, to time.Time) []time.Time {
	var out []time.Time
	for n := s.Next(from.Add(-time.Nanosecond)); !n.IsZero() && n.Before(to); n = s.Next(n) {
		out = append(out, n)
	}
	return out
}

const defaultSpec = "CRON_TZ=Europe/London 0 2 * * *"

// The default schedule fires once a night at 02:00 UK time, on ordinary nights and on both
// clock-change nights. In the UK the clocks go forward at 01:00 GMT (01:00 to 01:59 never
// happen; 02:00 BST does) and back at 02:00 BST (01:00 to 01:59 happen twice; 02:00 GMT once).
func TestDefaultScheduleLondon(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	s := mustParse(t, defaultSpec)
	cases := []struct {
		name       string
		day        time.Time // local midnight of the night
		wantUTC    string
		wantOffset int
	}{
		{"winter", time.Date(2026, 1, 14, 0, 0, 0, 0, london), "2026-01-14T02:00:00Z", 0},
		{"clocks forward (last Sunday of March)", time.Date(2026, 3, 29, 0, 0, 0, 0, london), "2026-03-29T01:00:00Z", 3600},
		{"summer", time.Date(2026, 7, 1, 0, 0, 0, 0, london), "2026-07-01T01:00:00Z", 3600},
		{"clocks back (last Sunday of October)", time.Date(2026, 10, 25, 0, 0, 0, 0, london), "2026-10-25T02:00:00Z", 0},
		{"clocks forward 2025", time.Date(2025, 3, 30, 0, 0, 0, 0, london), "2025-03-30T01:00:00Z", 3600},
		{"clocks back 2025", time.Date(2025, 10, 26, 0, 0, 0, 0, london), "2025-10-26T02:00:00Z", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := firings(s, c.day, c.day.AddDate(0, 0, 1))
			if len(got) != 1 {
				t.Fatalf("fired %d times that night: %v", len(got), got)
			}
			if g := got[0].UTC().Format(time.RFC3339); g != c.wantUTC {
				t.Errorf("fired at %s, want %s", g, c.wantUTC)
			}
			local := got[0].In(london)
			if local.Hour() != 2 || local.Minute() != 0 {
				t.Errorf("fired at %s local, want 02:00", local)
			}
			if _, off := local.Zone(); off != c.wantOffset {
				t.Errorf("offset %d, want %d", off, c.wantOffset)
			}
		})
	}
	// Across the whole year, exactly one firing per day.
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, london)
	to := from.AddDate(1, 0, 0)
	got := firings(s, from, to)
	if len(got) != 365 {
		t.Fatalf("fired %d times in 2026, want 365", len(got))
	}
	for i, f := range got {
		if l := f.In(london); l.Hour() != 2 || l.Minute() != 0 || l.YearDay() != i+1 {
			t.Fatalf("firing %d at %s", i, l)
		}
	}
}

// A time inside the hour that happens twice fires on the first pass only, and a time inside
// the hour that never happens fires once, at the jump. robfig/cron alone fires twice and
// not at all; Spec.Next corrects both.
func TestClockChangeHourLondon(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	s := mustParse(t, "CRON_TZ=Europe/London 30 1 * * *")

	back := time.Date(2026, 10, 25, 0, 0, 0, 0, london)
	got := firings(s, back, back.Add(25*time.Hour))
	if len(got) != 1 || got[0].UTC().Format(time.RFC3339) != "2026-10-25T00:30:00Z" {
		t.Errorf("clocks back: fired at %v, want once at 01:30 BST (00:30Z)", got)
	}
	raw := firingsOf(s[0].inner.Next, back, back.Add(25*time.Hour))
	if len(raw) != 2 {
		t.Logf("robfig/cron alone now fires %d times on the clocks-back night (was 2)", len(raw))
	}

	fwd := time.Date(2026, 3, 29, 0, 0, 0, 0, london)
	got = firings(s, fwd, fwd.Add(23*time.Hour))
	if len(got) != 1 || got[0].UTC().Format(time.RFC3339) != "2026-03-29T01:00:00Z" {
		t.Errorf("clocks forward: fired at %v, want once at the jump, 02:00 BST (01:00Z)", got)
	}
	raw = firingsOf(s[0].inner.Next, fwd, fwd.Add(23*time.Hour))
	if len(raw) != 0 {
		t.Logf("robfig/cron alone now fires %d times on the clocks-forward night (was 0)", len(raw))
	}
	// The nights either side are ordinary.
	for _, day := range []time.Time{fwd.AddDate(0, 0, -1), fwd.AddDate(0, 0, 1), back.AddDate(0, 0, -1), back.AddDate(0, 0, 1)} {
		got := firings(s, day, day.AddDate(0, 0, 1))
		if len(got) != 1 || got[0].In(london).Hour() != 1 || got[0].In(london).Minute() != 30 {
			t.Errorf("%s: fired at %v, want once at 01:30", day.Format("2006-01-02"), got)
		}
	}
}

func firingsOf(next func(time.Time) time.Time, from, to time.Time) []time.Time {
	var out []time.Time
	for n := next(from.Add(-time.Nanosecond)); !n.IsZero() && n.Before(to); n = next(n) {
		out = append(out, n)
	}
	return out
}

// In a zone whose clocks jump at 02:00 (New York), the 02:00 spec has no 02:00 on the
// spring night: it fires once, at 03:00 EDT.
func TestSkippedTwoOClockNewYork(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	s := mustParse(t, "CRON_TZ=America/New_York 0 2 * * *")
	day := time.Date(2026, 3, 8, 0, 0, 0, 0, ny)
	got := firings(s, day, day.Add(23*time.Hour))
	if len(got) != 1 {
		t.Fatalf("fired %v, want once", got)
	}
	if l := got[0].In(ny); l.Hour() != 3 || l.Minute() != 0 {
		t.Errorf("fired at %s, want 03:00 EDT", l)
	}
	fall := time.Date(2026, 11, 1, 0, 0, 0, 0, ny)
	if got := firings(s, fall, fall.Add(25*time.Hour)); len(got) != 1 {
		t.Errorf("clocks back: fired %v, want once", got)
	}
}

// An interval spec keeps firing through a repeated hour: it is not a wall-clock time.
func TestIntervalThroughRepeatedHour(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	s := mustParse(t, "CRON_TZ=Europe/London 0 */30 * * * *")
	back := time.Date(2026, 10, 25, 0, 0, 0, 0, london)
	// 00:00 to 03:00 local is four hours that night: eight half-hours.
	got := firings(s, back, time.Date(2026, 10, 25, 3, 0, 0, 0, london))
	if len(got) != 8 {
		t.Errorf("fired %d times in the four hours, want 8: %v", len(got), got)
	}
}

func TestSecondsAndSeveralSpecs(t *testing.T) {
	s := mustParse(t, "CRON_TZ=UTC */2 * * * * *", "CRON_TZ=UTC 0 6 * * *")
	at := time.Date(2026, 5, 1, 5, 59, 59, 500e6, time.UTC)
	if got, want := s.Next(at), time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %s, want %s", got, want)
	}
	if got, want := s.Next(time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC)), time.Date(2026, 5, 1, 6, 0, 2, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %s, want %s", got, want)
	}
	daily := mustParse(t, "CRON_TZ=UTC 0 6 * * *", "CRON_TZ=UTC 0 18 * * *")
	if got, want := daily.Next(time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC)), time.Date(2026, 5, 1, 18, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %s, want %s", got, want)
	}
	if got, want := daily.Prev(time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC)), time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Prev = %s, want %s", got, want)
	}
	if got, want := daily.Prev(time.Date(2026, 5, 1, 5, 0, 0, 0, time.UTC)), time.Date(2026, 4, 30, 18, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Prev = %s, want %s", got, want)
	}
	if got := mustParse(t, "@every 1h").Prev(at); !got.IsZero() {
		t.Errorf("@every has no fixed instants, Prev = %s", got)
	}
}

func TestParseErrorsNameTheSpec(t *testing.T) {
	_, err := Parse([]string{"0 2 * * *", "61 * * * *", "CRON_TZ=Mars/Olympus 0 2 * * *"})
	if err == nil {
		t.Fatal("bad specs accepted")
	}
	for _, want := range []string{"[1]", `"61 * * * *"`, "[2]", "Mars/Olympus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "[0]") {
		t.Errorf("error %q names the good spec", err)
	}
}

func TestMissed(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	s := mustParse(t, defaultSpec)
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, london) }
	cases := []struct {
		name   string
		starts []time.Time
		now    time.Time
		missed bool
		due    time.Time
	}{
		{"ran at 02:00, started again at 09:00", []time.Time{at(6, 9, 2, 0)}, at(6, 9, 9, 0), false, at(6, 9, 2, 0)},
		{"down at 02:00, last batch the night before", []time.Time{at(6, 8, 2, 0)}, at(6, 9, 9, 0), true, at(6, 9, 2, 0)},
		{"no history at all", nil, at(6, 9, 9, 0), true, at(6, 9, 2, 0)},
		{"started before 02:00: last night's ran", []time.Time{at(6, 8, 2, 0)}, at(6, 9, 1, 0), false, at(6, 8, 2, 0)},
		{"a late start still counts", []time.Time{at(6, 9, 2, 7)}, at(6, 9, 9, 0), false, at(6, 9, 2, 0)},
		{"exactly at the instant counts as missed", []time.Time{at(6, 8, 2, 0)}, at(6, 9, 2, 0), true, at(6, 9, 2, 0)},
		{"clocks-forward night: due at 02:00 BST", []time.Time{at(3, 28, 2, 0)}, at(3, 29, 8, 0), true, time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		{"clocks-back night: ran at 02:00 GMT", []time.Time{time.Date(2026, 10, 25, 2, 0, 1, 0, time.UTC)}, at(10, 25, 8, 0), false, time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			due, missed := Missed(s, c.starts, c.now)
			if missed != c.missed {
				t.Errorf("missed = %v, want %v", missed, c.missed)
			}
			if !due.Equal(c.due) {
				t.Errorf("due = %s, want %s", due, c.due)
			}
		})
	}
	if _, missed := Missed(mustParse(t, "@every 1m"), nil, at(6, 9, 9, 0)); missed {
		t.Error("an interval schedule has nothing to catch up")
	}
	if _, missed := Missed(nil, nil, at(6, 9, 9, 0)); missed {
		t.Error("no schedule has nothing to catch up")
	}
}
