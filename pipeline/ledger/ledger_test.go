package ledger

import (
	"slices"
	"testing"
)

func TestCompareBatchIDsOrdersAsMade(t *testing.T) {
	made := []string{"20261129T020000Z", "20261130T125242Z", "20261130T125242Z-2", "20261130T125242Z-3", "20261130T125242Z-10", "20261130T125243Z"}
	shuffled := []string{made[4], made[2], made[5], made[0], made[3], made[1]}
	slices.SortFunc(shuffled, CompareBatchIDs)
	if !slices.Equal(shuffled, made) {
		t.Errorf("sorted %v, want %v", shuffled, made)
	}
}

func TestRunsInOrderMade(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir+"/files", dir+"/runs")
	for _, id := range []string{"20261130T125242Z-10", "20261130T125242Z-2", "20261130T125242Z"} {
		if err := l.SaveRun(Run{BatchID: id}); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := l.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.BatchID)
	}
	if want := []string{"20261130T125242Z", "20261130T125242Z-2", "20261130T125242Z-10"}; !slices.Equal(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
}
