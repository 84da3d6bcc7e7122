package batch_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/history"
)

// scorecardNow is the live warehouse's scorecard as band_changes compares it: project,
// band and score.
func scorecardNow(t *testing.T, cfg config.Config) map[string][2]string {
	t.Helper()
	rows := queryText(t, cfg, "SELECT project_id, band, score FROM project_scorecard")
	out := map[string][2]string{}
	for _, r := range rows {
		out[r[0]] = [2]string{r[1], r[2]}
	}
	return out
}

// expectedChanges works out band_changes by hand from two scorecards: the rows of every
// project whose band or score differs, or that only one of them has.
func expectedChanges(was, now map[string][2]string, prevID, curID string) [][]string {
	var ids []string
	for id := range was {
		ids = append(ids, id)
	}
	for id := range now {
		if _, ok := was[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out [][]string
	for _, id := range ids {
		w, inWas := was[id]
		n, inNow := now[id]
		change := ""
		switch {
		case !inWas:
			change = "new"
		case !inNow:
			change = "removed"
		case w[0] != n[0]:
			change = "band"
		case w[1] != n[1]:
			change = "score"
		default:
			continue
		}
		out = append(out, []string{id, prevID, curID, w[0], n[0], w[1], n[1], change})
	}
	sort.SliceStable(out, func(i, j int) bool { return changeOrder(out[i][7]) < changeOrder(out[j][7]) })
	return out
}

func changeOrder(c string) int {
	return map[string]int{"band": 1, "new": 2, "removed": 3, "score": 4}[c]
}

func bandChanges(t *testing.T, cfg config.Config) [][]string {
	t.Helper()
	rows := queryText(t, cfg, "SELECT project_id, previous_batch_id, batch_id, previous_band, band, previous_score, score, change FROM band_changes")
	return rows
}

// historyBatches lists scorecard_history's batches: id, withdrawn, rows.
func historyBatches(t *testing.T, cfg config.Config) [][]string {
	t.Helper()
	rows := queryText(t, cfg, "SELECT batch_id, withdrawn::VARCHAR, count(*)::VARCHAR FROM scorecard_history GROUP BY ALL ORDER BY min(batch_seq)")
	return rows
}

func historyOf(t *testing.T, cfg config.Config, batchID string) [][]string {
	t.Helper()
	rows := queryText(t, cfg, "SELECT * EXCLUDE (batch_seq, withdrawn) FROM scorecard_history WHERE batch_id = '"+batchID+"' ORDER BY project_id")
	return rows
}

// TestScorecardHistoryAcrossBuildsAndRollback publishes the golden returns over four
// nights and a rollback: A (the first night's files, a full build), B (the corrections, an
// incremental build), C (a forced full rebuild), a rollback to A, and D (the full build
// after it). scorecard_history must hold every published batch's scorecard as it was
// published, through each kind of build, and band_changes must be the difference, worked
// out here from the scorecards themselves, between each batch and the one readers had
// before it: after the rollback, A, not the withdrawn C.
func TestScorecardHistoryAcrossBuildsAndRollback(t *testing.T) {
	first, second := splitGolden(t)
	cfg := newWorkspace(t, first)
	now := clock()

	a := runBatch(t, cfg, now, false)
	if a.Run.WarehouseBuild != "full" {
		t.Fatalf("A: %s build", a.Run.WarehouseBuild)
	}
	scoreA := scorecardNow(t, cfg)
	historyA := historyOf(t, cfg, a.Run.BatchID)
	if len(historyA) != len(scoreA) || len(scoreA) == 0 {
		t.Fatalf("A: scorecard_history holds %d rows of A, the scorecard %d", len(historyA), len(scoreA))
	}
	if got := bandChanges(t, cfg); len(got) != 0 {
		t.Errorf("A, the first batch: band_changes %v, want none", got)
	}
	if entries, err := history.List(filepath.Join(cfg.Workspace, "lake")); err != nil || len(entries) != 1 || entries[0].BatchID != a.Run.BatchID {
		t.Fatalf("lake history after A: %v (%v)", entries, err)
	}

	deliver(t, cfg, second)
	b := runBatch(t, cfg, now, false)
	if b.Run.WarehouseBuild != "incremental" {
		t.Fatalf("B: %s build (%s)", b.Run.WarehouseBuild, b.Run.Message)
	}
	scoreB := scorecardNow(t, cfg)
	wantAB := expectedChanges(scoreA, scoreB, a.Run.BatchID, b.Run.BatchID)
	if len(wantAB) == 0 {
		t.Fatal("the corrections moved no score: the test proves nothing")
	}
	if diff := cmp.Diff(wantAB, bandChanges(t, cfg)); diff != "" {
		t.Errorf("B (incremental): band_changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{a.Run.BatchID, "false", "4"}, {b.Run.BatchID, "false", "4"}}, historyBatches(t, cfg)); diff != "" {
		t.Errorf("B: scorecard_history batches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(historyA, historyOf(t, cfg, a.Run.BatchID)); diff != "" {
		t.Errorf("B: A's scorecard in the history changed (-was +now):\n%s", diff)
	}
	historyB := historyOf(t, cfg, b.Run.BatchID)

	c := runBatch(t, cfg, now, true)
	if c.Run.WarehouseBuild != "full" {
		t.Fatalf("C: %s build", c.Run.WarehouseBuild)
	}
	if got := bandChanges(t, cfg); len(got) != 0 {
		t.Errorf("C, a rebuild of the same files: band_changes %v, want none", got)
	}
	if diff := cmp.Diff(historyA, historyOf(t, cfg, a.Run.BatchID)); diff != "" {
		t.Errorf("C (full rebuild): A's scorecard in the history changed (-was +now):\n%s", diff)
	}
	if diff := cmp.Diff(historyB, historyOf(t, cfg, b.Run.BatchID)); diff != "" {
		t.Errorf("C (full rebuild): B's scorecard in the history changed (-was +now):\n%s", diff)
	}

	if _, err := batch.Rollback(context.Background(), cfg, batch.Options{Version: "test", Now: now}, a.Run.BatchID); err != nil {
		t.Fatal(err)
	}
	// The reader's page is A's again.
	pageA, errA := os.ReadFile(filepath.Join(cfg.Workspace, "reports", a.Run.BatchID, "index.html"))
	latest, errL := os.ReadFile(filepath.Join(cfg.Workspace, "reports", "latest", "index.html"))
	if errA != nil || errL != nil || string(pageA) != string(latest) {
		t.Errorf("after the rollback to A, reports/latest is not A's page (%v, %v)", errA, errL)
	}
	// The live warehouse is A's own file again: its history is what it was when built.
	if diff := cmp.Diff([][]string{{a.Run.BatchID, "false", "4"}}, historyBatches(t, cfg)); diff != "" {
		t.Errorf("after the rollback to A: scorecard_history (-want +got):\n%s", diff)
	}
	entries, err := history.List(filepath.Join(cfg.Workspace, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	var withdrawn []string
	for _, e := range entries {
		if e.Withdrawn {
			withdrawn = append(withdrawn, e.BatchID)
		}
	}
	if diff := cmp.Diff([]string{b.Run.BatchID, c.Run.BatchID}, withdrawn); diff != "" || len(entries) != 3 {
		t.Errorf("after the rollback to A: %d batches kept, withdrawn (-want +got):\n%s", len(entries), diff)
	}

	d := runBatch(t, cfg, now, false)
	if d.Run.Status != batch.StatusPublished || d.Run.WarehouseBuild != "full" {
		t.Fatalf("D: %s, %s build", d.Run.Status, d.Run.WarehouseBuild)
	}
	want := [][]string{
		{a.Run.BatchID, "false", "4"}, {b.Run.BatchID, "true", "4"},
		{c.Run.BatchID, "true", "4"}, {d.Run.BatchID, "false", "4"},
	}
	if diff := cmp.Diff(want, historyBatches(t, cfg)); diff != "" {
		t.Errorf("D: scorecard_history batches (-want +got):\n%s", diff)
	}
	wantAD := expectedChanges(scoreA, scorecardNow(t, cfg), a.Run.BatchID, d.Run.BatchID)
	if diff := cmp.Diff(wantAD, bandChanges(t, cfg)); diff != "" {
		t.Errorf("D, after the rollback to A: band_changes against A (-want +got):\n%s", diff)
	}

	// Without its warehouse files at all, a full build from the lake keeps every batch.
	if err := os.RemoveAll(filepath.Join(cfg.Workspace, "warehouse")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(cfg.Workspace, "state", "published.json")); err != nil {
		t.Fatal(err)
	}
	e := runBatch(t, cfg, now, false)
	if got := historyBatches(t, cfg); len(got) != 5 || got[3][0] != d.Run.BatchID || got[4][0] != e.Run.BatchID {
		t.Errorf("E, rebuilt without any warehouse file: scorecard_history batches %v", got)
	}
	if got := bandChanges(t, cfg); len(got) != 0 {
		t.Errorf("E, the same files as D: band_changes %v, want none", got)
	}
}

// TestReturnsStatusHandWorked checks the chase list on a register worked out by hand.
// P-A runs from April 2024 (end March 2025); as_of is June 2024 (2024-25 P3, the latest
// spend), so its window is April-June 2024. DfE sends April and May on 10 June: April's
// return (due 20 May) is 21 days late, May's (due 20 June) on time, June's is missing.
// MoJ joins part way, sending only June, on 25 July: 5 days late, and it owes April and
// May all the same, since the window is the project's. P-B has no spend: no rows, and
// returns_expected 0 in the scorecard.
func TestReturnsStatusHandWorked(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Workspace = t.TempDir()
	cfg.Ingest.Workers = 1
	writeInbox(t, cfg, "projects/register.csv", "project_id,project_name,sof_round,lead_department,partner_departments,policy_area,cross_cutting_outcome,delivery_model,start_date,end_date,allocation_gbp,evaluation_design,sms_planned\n"+
		"P-A,Pathways,1,Department for Education,Ministry of Justice,Education,Work,grant,2024-04-01,2025-03-31,100000.00,did,3\n"+
		"P-B,Quiet project,2,Home Office,,Crime,Safety,grant,2024-01-15,2024-12-31,50000.00,none,1\n")
	writeInbox(t, cfg, "gdp_deflators/d.csv", "financial_year,index\n2023-24,100\n2024-25,102\n")
	writeInbox(t, cfg, "spend/dfe.csv", "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp\n"+
		"P-A,Department for Education,2024-25,1,RDEL,1000.00,1000.00\n"+
		"P-A,Department for Education,2024-25,2,RDEL,1000.00,900.00\n")
	night := func(day time.Time) func() time.Time {
		return func() time.Time { day = day.Add(time.Second); return day }
	}
	runBatch(t, cfg, night(time.Date(2024, 6, 10, 2, 0, 0, 0, time.UTC)), false)
	writeInbox(t, cfg, "spend/moj.csv", "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp\n"+
		"P-A,Ministry of Justice,2024-25,3,RDEL,500.00,500.00\n")
	if out := runBatch(t, cfg, night(time.Date(2024, 7, 25, 2, 0, 0, 0, time.UTC)), false); out.Run.Status != batch.StatusPublished {
		t.Fatalf("second night: %s %s", out.Run.Status, out.Run.Message)
	}
	got := queryText(t, cfg, `SELECT project_id, department, month, financial_year || ' P' || period, due_date,
		received::VARCHAR, coalesce(first_file, ''), coalesce(days_late::VARCHAR, ''), status FROM returns_status`)
	want := [][]string{
		{"P-A", "Department for Education", "2024-04-01", "2024-25 P1", "2024-05-20", "true", "spend/dfe.csv", "21", "late"},
		{"P-A", "Department for Education", "2024-05-01", "2024-25 P2", "2024-06-20", "true", "spend/dfe.csv", "0", "on_time"},
		{"P-A", "Department for Education", "2024-06-01", "2024-25 P3", "2024-07-20", "false", "", "", "missing"},
		{"P-A", "Ministry of Justice", "2024-04-01", "2024-25 P1", "2024-05-20", "false", "", "", "missing"},
		{"P-A", "Ministry of Justice", "2024-05-01", "2024-25 P2", "2024-06-20", "false", "", "", "missing"},
		{"P-A", "Ministry of Justice", "2024-06-01", "2024-25 P3", "2024-07-20", "true", "spend/moj.csv", "5", "late"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("returns_status (-want +got):\n%s", diff)
	}
	sc := queryText(t, cfg, "SELECT project_id, returns_expected::VARCHAR, returns_received::VARCHAR FROM project_scorecard ORDER BY 1")
	if diff := cmp.Diff([][]string{{"P-A", "6", "3"}, {"P-B", "0", "0"}}, sc); diff != "" {
		t.Errorf("project_scorecard returns (-want +got):\n%s", diff)
	}

	// The due day is a mart constant: on the 10th, DfE's May return (sent 10 June) is on
	// time and April's 31 days late.
	cfg.Marts.ReturnsDueDay = 10
	if out := runBatch(t, cfg, night(time.Date(2024, 7, 26, 2, 0, 0, 0, time.UTC)), true); out.Run.Status != batch.StatusPublished {
		t.Fatalf("third night: %s %s", out.Run.Status, out.Run.Message)
	}
	got = queryText(t, cfg, "SELECT due_date, days_late::VARCHAR, status FROM returns_status WHERE department = 'Department for Education' AND received ORDER BY month")
	if diff := cmp.Diff([][]string{{"2024-05-10", "31", "late"}, {"2024-06-10", "0", "on_time"}}, got); diff != "" {
		t.Errorf("returns_due_day 10 (-want +got):\n%s", diff)
	}
}
