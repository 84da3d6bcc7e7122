package serve

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// TestReportServed: /report/ serves reports/latest/, /report/<batch>/ a batch's page, and
// nothing outside the reports folder.
func TestReportServed(t *testing.T) {
	ws := workspace.Workspace{Root: t.TempDir()}
	for name, body := range map[string]string{"latest": "<p>newest</p>", "20260101T020000Z": "<p>older</p>"} {
		p := filepath.Join(ws.Reports(), name, "index.html")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(ws.Root, "secret"), []byte("no"), 0o644)
	mux := http.NewServeMux()
	mux.Handle("GET /report/", reportHandler(ws))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for path, want := range map[string]string{
		"/report/":                            "<p>newest</p>",
		"/report/20260101T020000Z/":           "<p>older</p>",
		"/report/20260101T020000Z/index.html": "<p>older</p>",
		"/report/20260101T020000Z":            "<p>older</p>",
		"/report/19990101T000000Z/":           "404",
		"/report/..%2Fsecret":                 "404",
		"/report/../secret":                   "404",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got := string(b)
		if res.StatusCode == http.StatusNotFound {
			got = "404"
		}
		if got != want {
			t.Errorf("GET %s: %d %q, want %q", path, res.StatusCode, got, want)
		}
		if res.StatusCode == http.StatusOK && res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", path)
		}
	}
}
