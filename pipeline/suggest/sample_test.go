package suggest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
	"github.com/evaluation-taskforce/sofpipe/pipeline/suggest"
)

var sampleDir = filepath.Join("..", "..", "..", "shared", "data", "spend-over-25k-sample")

// TestSuggestPerBody runs profile suggest on each body's files of the real sample, as an
// operator onboarding that body would, and reads the files with the profile it printed:
// the share of rows each body's profile takes is logged (go test -v), and held to a floor
// over the whole sample. Rows of delimiters are left out of the shares: they hold nothing.
func TestSuggestPerBody(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 96 real files: not with -short")
	}
	bodies, err := os.ReadDir(sampleDir)
	if err != nil {
		t.Skipf("the sample of real returns is not at %s: %v", sampleDir, err)
	}
	ds, _ := contract.Lookup(contract.Spend)
	var report strings.Builder
	var allRead, allTaken int64
	var names []string
	for _, b := range bodies {
		if b.IsDir() {
			names = append(names, b.Name())
		}
	}
	sort.Strings(names)
	for _, body := range names {
		files, _ := filepath.Glob(filepath.Join(sampleDir, body, "*.csv"))
		res, err := suggest.Suggest(files, suggest.Options{Dataset: ds, Name: body, Defaults: spendDefaults})
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var read, taken int64
		var notes []string
		for _, f := range files {
			got, err := ingest.File(context.Background(), ingest.Input{Path: f, Source: f, Dataset: ds, Profile: &res.Profile}, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got.RowsRead != got.RowsAccepted+got.RowsRejected {
				t.Errorf("%s: rows do not balance", f)
			}
			blank := got.RejectsByReason[ingest.ReasonBlankRow]
			read += got.RowsRead - blank
			taken += got.RowsAccepted
			if got.Status != ingest.StatusIngested {
				notes = append(notes, fmt.Sprintf("%s %s", filepath.Base(f), got.Reason))
			} else if got.RowsRejected > blank {
				notes = append(notes, fmt.Sprintf("%s: %s", filepath.Base(f), ingest.SummarizeReasons(got.RejectsByReason)))
			}
		}
		allRead, allTaken = allRead+read, allTaken+taken
		share := 100.0
		if read > 0 {
			share = 100 * float64(taken) / float64(read)
		}
		fmt.Fprintf(&report, "%-8s %6.1f%%  %5d of %5d rows  missing: %-22s %s\n", body, share, taken, read, strings.Join(res.MissingRequired, ","), strings.Join(notes, "; "))
	}
	t.Logf("profile suggest per body, share of rows (rows of delimiters aside) its profile takes:\n%s", report.String())
	share := float64(allTaken) / float64(allRead)
	t.Logf("all bodies: %d of %d rows, %.1f%%", allTaken, allRead, 100*share)
	if share < 0.9 {
		t.Errorf("suggested profiles take %.1f%% of the sample's rows, want at least 90%%", 100*share)
	}
}
