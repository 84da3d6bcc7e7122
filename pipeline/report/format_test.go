package report

import (
	"strings"
	"testing"
	"time"
)

func TestUKFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Money(1_234_567), "£1.2m"},
		{Money(1_250_000), "£1.3m"},
		{Money(2_000_000), "£2m"},
		{Money(999_960), "£1m"},
		{Money(350_000), "£350,000"},
		{Money(512.4), "£512"},
		{Money(-46_528), "-£46,528"},
		{Money(3.2e9), "£3.2bn"},
		{Money(-0.2), "£0"},
		{Percent(0.744), "74%"},
		{Percent(0.745), "75%"},
		{SignedPercent(0.04), "+4%"},
		{SignedPercent(-0.12), "-12%"},
		{Date(time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)), "31 March 2025"},
		{Date(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)), "2 January 2025"},
		{Month(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)), "June 2024"},
		{Score(69.95), "70.0"},
		{Score(75.5), "75.5"},
		{Ratio(2.675), "2.68"},
		{Ratio(3), "3"},
		{Count(10649), "10,649"},
		{Count(-1234567), "-1,234,567"},
		{BandName("extend_and_evaluate"), "Extend and evaluate"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if m, ok := periodMonth("2024-25", 12); !ok || Month(m) != "March 2025" {
		t.Errorf("2024-25 P12 is %s", Month(m))
	}
}

// TestRenderEmptyWarehouse: a warehouse with nothing in it yet still renders, saying so,
// and draws no empty chart.
func TestRenderEmptyWarehouse(t *testing.T) {
	b, err := Bytes(Data{Batch: Batch{ID: "20260101T000000Z", BaseYear: "2023-24", ReturnsDueDay: 20}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"No projects are registered yet.", "No returns are due yet.", "No rows or files have been rejected.", "No spend has been received."} {
		if !contains(s, want) {
			t.Errorf("the empty page does not say %q", want)
		}
	}
	if contains(s, `data-marks="0"`) {
		t.Error("the empty page draws a chart with no marks")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
