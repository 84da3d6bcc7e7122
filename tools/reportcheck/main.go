// Command reportcheck opens a sofpipe report page in headless Chromium, the way a reader's
// browser does, and fails when the page logs a console error or throws, requests anything
// but itself (the page must work from a copied folder with no network), or has a chart
// with nothing drawn in it or a fill that points at no pattern. It leaves a PNG screenshot
// and an A4 PDF of the page.
//
// It speaks the DevTools protocol through chromedp over Chromium's pipe, so the checks
// see the browser's own events (console, exceptions, every network request) rather than
// guessing from --dump-dom output. It is its own module (make report-check builds it), so
// the sofpipe binary and its go.mod carry none of it.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

func main() {
	chrome := flag.String("chrome", "chromium", "the Chromium executable")
	pagePath := flag.String("page", "", "the report page (index.html)")
	png := flag.String("png", "", "write a full-page PNG screenshot here")
	pdf := flag.String("pdf", "", "write an A4 PDF here")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if *pagePath == "" {
		fmt.Fprintln(os.Stderr, "usage: reportcheck -page index.html [-png out.png] [-pdf out.pdf] [-chrome PATH]")
		os.Exit(2)
	}
	problems, err := check(*chrome, *pagePath, *png, *pdf, *timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reportcheck: %v\n", err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Fprintf(os.Stderr, "reportcheck: %s\n", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// chart is what the page says of one chart once the browser has laid it out.
type chart struct {
	ID     string  `json:"id"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Marks  int     `json:"marks"`
	Drawn  int     `json:"drawn"` // marks with a box of some size
	Title  string  `json:"title"`
}

// inspect is run in the page: every chart's size and marks, and every fill url(#id) whose
// pattern is missing.
const inspect = `(() => {
  const charts = Array.from(document.querySelectorAll('svg.chart')).map(s => {
    const r = s.getBoundingClientRect();
    const marks = Array.from(s.querySelectorAll('.mark'));
    const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 && b.height > 0; }).length;
    const t = s.querySelector('title');
    return {id: s.parentElement.id, width: r.width, height: r.height, marks: marks.length, drawn: drawn, title: t ? t.textContent : ''};
  });
  const missing = Array.from(document.querySelectorAll('[fill^="url(#"]'))
    .map(e => e.getAttribute('fill').slice(5, -1))
    .filter(id => !document.getElementById(id));
  return {charts: charts, missing: Array.from(new Set(missing))};
})()`

func check(chrome, pagePath, png, pdf string, timeout time.Duration) ([]string, error) {
	abs, err := filepath.Abs(pagePath)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, err
	}
	pageURL := (&url.URL{Scheme: "file", Path: abs}).String()
	profile, err := os.MkdirTemp("", "reportcheck-profile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 1400),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
	)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()

	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value))
				}
				report("console %s: %s", ev.Type, strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			report("exception: %s", ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				report("console error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if ev.Request.URL != pageURL && !strings.HasPrefix(ev.Request.URL, "data:") {
				report("network request: %s", ev.Request.URL)
			}
		}
	}); err != nil {
		return nil, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		return nil, fmt.Errorf("open %s: %w", pageURL, err)
	}
	type result struct {
		Charts  []chart  `json:"charts"`
		Missing []string `json:"missing"`
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[result](inspect))
	if err != nil {
		return nil, fmt.Errorf("inspect the page: %w", err)
	}
	if len(res.Charts) == 0 {
		report("the page has no chart")
	}
	for _, c := range res.Charts {
		if c.Width < 50 || c.Height < 50 || c.Drawn == 0 || c.Drawn != c.Marks || c.Title == "" {
			report("chart %s (%q): %.0f×%.0f px, %d of %d marks drawn", c.ID, c.Title, c.Width, c.Height, c.Drawn, c.Marks)
		}
	}
	for _, id := range res.Missing {
		report("a fill points at pattern #%s, which the page does not define", id)
	}
	if png != "" {
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return nil, fmt.Errorf("screenshot: %w", err)
		}
		if err := os.WriteFile(png, b, 0o644); err != nil {
			return nil, err
		}
	}
	if pdf != "" {
		b, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
		if err != nil {
			return nil, fmt.Errorf("pdf: %w", err)
		}
		if err := os.WriteFile(pdf, b, 0o644); err != nil {
			return nil, err
		}
	}
	mu.Lock()
	defer mu.Unlock()
	fmt.Printf("reportcheck: %s: %d charts, all drawn; %d problems\n", pagePath, len(res.Charts), len(problems))
	return problems, nil
}
