package reportdata_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/evaluation-taskforce/sofpipe/internal/testfiles"
	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/report"
	"github.com/evaluation-taskforce/sofpipe/pipeline/reportdata"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// badSpend is a return with rows the ingest rejects for three reasons.
const badSpend = "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp\n" +
	"SOF-001,Department for Education,2024-25,13,RDEL,1.00,1.00\n" +
	"SOF-001,Department for Education,2024-25,14,RDEL,1.00,1.00\n" +
	"SOF-001,Department for Education,2024-25,2,RDEL,1.00,lots\n" +
	"SOF-001,Department for Education,2024-25,3,XDEL,1.00,1.00\n" +
	"SOF-001,Department for Education,2024-25,4,RDEL,1.00,2.00\n"

// publish runs one batch on the golden returns plus badSpend in a new workspace, at a fixed
// time, and returns the config and the batch's id.
func publish(t *testing.T) (config.Config, string) {
	t.Helper()
	cfg := config.DefaultConfig()
	cfg.Workspace = t.TempDir()
	cfg.Ingest.Workers = 1
	if err := testfiles.CopyTree(filepath.Join("..", "..", "fixtures", "golden", "inbox"), filepath.Join(cfg.Workspace, "inbox")); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(cfg.Workspace, "inbox", "spend", "03-dfe-bad.csv"), []byte(badSpend)); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 9, 3, 2, 0, 0, 0, time.UTC)
	out, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test-1", Now: func() time.Time { now = now.Add(time.Second); return now }})
	if err != nil || out.Run.Status != batch.StatusPublished {
		t.Fatalf("batch: %v %s %s", err, out.Run.Status, out.Run.Message)
	}
	return cfg, out.Run.BatchID
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

// query returns a query's rows as text, closing the warehouse again (DuckDB serves a second
// open of a path still open from the first one's instance).
func query(t *testing.T, path, q string) [][]string {
	t.Helper()
	db, err := warehouse.Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out
}

// Small helpers over the parsed page.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return strings.Contains(" "+v+" ", " "+class+" ")
}

func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byID(root *html.Node, id string) *html.Node {
	found := find(root, func(n *html.Node) bool { v, ok := attr(n, "id"); return ok && v == id })
	if len(found) != 1 {
		return nil
	}
	return found[0]
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

func cellWithClass(row *html.Node, class string) string {
	cells := find(row, func(n *html.Node) bool { return hasClass(n, class) })
	if len(cells) != 1 {
		return fmt.Sprintf("(%d cells of class %s)", len(cells), class)
	}
	return text(cells[0])
}

// TestReportPageMatchesWarehouse publishes a batch and reads its page as a browser would
// parse it: every section in order, every candidate's band and score, the chase list's
// counts per department and the rejects per reason as the warehouse has them, a footer
// naming the warehouse, charts that are drawn and described, nothing fetched from
// anywhere, and the same bytes when the page is made again from the file.
func TestReportPageMatchesWarehouse(t *testing.T) {
	cfg, id := publish(t)
	ws := cfg.Workspace
	live := filepath.Join(ws, "warehouse", "sof.duckdb")
	page, err := os.ReadFile(filepath.Join(ws, "reports", id, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	latest, err := os.ReadFile(filepath.Join(ws, "reports", "latest", "index.html"))
	if err != nil || !bytes.Equal(page, latest) {
		t.Fatalf("reports/latest is not the batch's page (%v)", err)
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}

	// Sections, in the order.
	var order []string
	for _, s := range find(doc, func(n *html.Node) bool { return n.Data == "section" }) {
		v, _ := attr(s, "id")
		order = append(order, v)
	}
	if diff := cmp.Diff([]string{"batch", "changes", "candidates", "evidence", "spend", "returns", "lessons", "checks"}, order); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}

	// Every candidate's band and score.
	want := query(t, live, "SELECT project_id, band, printf('%.1f', score) FROM scale_up_candidates ORDER BY rank")
	var got [][]string
	for _, tr := range find(byID(doc, "table-candidates"), func(n *html.Node) bool { _, ok := attr(n, "data-project"); return n.Data == "tr" && ok }) {
		p, _ := attr(tr, "data-project")
		bands := find(tr, func(n *html.Node) bool { return hasClass(n, "band") })
		band := ""
		if len(bands) == 1 {
			band, _ = attr(bands[0], "data-band")
		}
		got = append(got, []string{p, band, cellWithClass(tr, "score")})
	}
	if len(want) == 0 {
		t.Fatal("no candidates in the warehouse")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("candidates on the page against scale_up_candidates (-warehouse +page):\n%s", diff)
	}

	// The chase list's counts per department.
	want = query(t, live, `SELECT department, count(*)::VARCHAR, count(*) FILTER (WHERE status = 'missing')::VARCHAR,
		count(*) FILTER (WHERE status = 'late')::VARCHAR FROM returns_status GROUP BY department ORDER BY department`)
	got = nil
	for _, tr := range find(byID(doc, "table-chase"), func(n *html.Node) bool { _, ok := attr(n, "data-department"); return n.Data == "tr" && ok }) {
		d, _ := attr(tr, "data-department")
		got = append(got, []string{d, num(cellWithClass(tr, "expected")), num(cellWithClass(tr, "missing")), num(cellWithClass(tr, "late"))})
	}
	sortRows(got)
	if len(want) == 0 {
		t.Fatal("no returns in the warehouse")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chase list on the page against returns_status (-warehouse +page):\n%s", diff)
	}

	// Rejects per reason.
	want = query(t, live, "SELECT reason, count(*)::VARCHAR FROM _rejects GROUP BY reason ORDER BY reason")
	perReason := map[string]int{}
	for _, tr := range find(byID(doc, "table-rejects"), func(n *html.Node) bool { _, ok := attr(n, "data-reason"); return n.Data == "tr" && ok }) {
		r, _ := attr(tr, "data-reason")
		n, err := strconv.Atoi(num(cellWithClass(tr, "rows")))
		if err != nil {
			t.Fatal(err)
		}
		perReason[r] += n
	}
	got = nil
	for r, n := range perReason {
		got = append(got, []string{r, strconv.Itoa(n)})
	}
	sortRows(got)
	if len(want) < 2 {
		t.Fatalf("rejects in the warehouse: %v; the bad return should give several reasons", want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejects on the page against _rejects (-warehouse +page):\n%s", diff)
	}

	// The footer ties the page to the warehouse.
	build := query(t, live, "SELECT batch_id, fingerprint FROM _build")[0]
	for key, want := range map[string]string{"footer-batch": build[0], "footer-fingerprint": build[1], "footer-version": "test-1"} {
		if n := byID(doc, key); n == nil || text(n) != want {
			t.Errorf("footer %s: want %q", key, want)
		}
	}

	// Charts: titled, described, captioned, with axis labels and marks; nothing that
	// fetches (no script, stylesheet link, image, frame, or address with a scheme).
	charts := find(doc, func(n *html.Node) bool { return n.Data == "svg" && hasClass(n, "chart") })
	if len(charts) < 6 {
		t.Errorf("%d charts, want at least 6", len(charts))
	}
	for _, c := range charts {
		marks := find(c, func(n *html.Node) bool { return hasClass(n, "mark") })
		titles := find(c, func(n *html.Node) bool { return n.Data == "title" })
		labels := find(c, func(n *html.Node) bool { return hasClass(n, "axis-label") && text(n) != "" })
		desc := find(c, func(n *html.Node) bool { return n.Data == "desc" })
		if len(marks) == 0 || len(titles) == 0 || text(titles[0]) == "" || len(labels) != 2 || len(desc) != 1 {
			t.Errorf("chart %v: %d marks, %d titles, %d axis labels, %d desc", c.Parent.Attr, len(marks), len(titles), len(labels), len(desc))
		}
	}
	for _, n := range find(doc, func(n *html.Node) bool {
		return n.Data == "script" || n.Data == "link" || n.Data == "img" || n.Data == "iframe" || n.Data == "object"
	}) {
		t.Errorf("the page has a <%s>", n.Data)
	}
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(a.Val, "#") {
				t.Errorf("<%s %s=%q> points outside the page", n.Data, a.Key, a.Val)
			}
		}
	}
	if bytes.Contains(page, []byte("http://")) || bytes.Contains(page, []byte("https://")) || bytes.Contains(page, []byte("@import")) {
		t.Error("the page names a network address")
	}

	// The same bytes when made again from the warehouse file.
	data, err := reportdata.Load(context.Background(), live)
	if err != nil {
		t.Fatal(err)
	}
	again, err := report.Bytes(data)
	if err != nil || !bytes.Equal(page, again) {
		t.Errorf("the page made again from the warehouse differs (%v)", err)
	}
}

// TestReportSameInputsSameBytes: two workspaces given the same returns at the same times
// publish byte-identical pages.
func TestReportSameInputsSameBytes(t *testing.T) {
	var pages [][]byte
	for range 2 {
		cfg, id := publish(t)
		b, err := os.ReadFile(filepath.Join(cfg.Workspace, "reports", id, "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b)
	}
	if !bytes.Equal(pages[0], pages[1]) {
		t.Errorf("two runs on the same inputs gave different pages (%d and %d bytes)", len(pages[0]), len(pages[1]))
	}
}

func num(s string) string { return strings.ReplaceAll(s, ",", "") }

func sortRows(rows [][]string) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && strings.Join(rows[j], "\x00") < strings.Join(rows[j-1], "\x00"); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}
