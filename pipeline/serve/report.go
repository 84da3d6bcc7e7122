package serve

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// reportHandler serves the reports the batches wrote (pipeline/report): /report/ is the
// newest published batch's page (reports/latest/index.html), /report/<batch>/ that
// batch's. The pages are read from disk on each request, so a batch that publishes
// meanwhile is served at once; they are whole files (written by rename). A Content
// Security Policy that allows nothing beyond the page's own inline styles backs up the
// page's promise to fetch nothing.
func reportHandler(ws workspace.Workspace) http.Handler {
	return http.StripPrefix("/report/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "index.html"), "/")
		if name == "" {
			name = "latest"
		}
		if strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(filepath.Join(ws.Reports(), name, "index.html"))
		if err != nil {
			http.Error(w, "no report for "+name+": a report is written when a batch publishes", http.StatusNotFound)
			return
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		http.ServeContent(w, r, "index.html", info.ModTime(), f)
	}))
}
