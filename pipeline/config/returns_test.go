package config

import (
	"strings"
	"testing"
)

// TestReturnsDueDay: the chase list's due day defaults to the 20th and must be a day every
// month has.
func TestReturnsDueDay(t *testing.T) {
	if got := DefaultConfig().Marts.ReturnsDueDay; got != 20 {
		t.Errorf("default returns_due_day %d, want 20", got)
	}
	for day, ok := range map[int]bool{0: false, 1: true, 28: true, 29: false, 31: false} {
		c := DefaultConfig()
		c.Marts.ReturnsDueDay = day
		err := c.Validate()
		if ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "marts.returns_due_day")) {
			t.Errorf("returns_due_day %d: %v", day, err)
		}
	}
}
