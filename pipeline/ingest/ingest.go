// Package ingest turns one delivered CSV file into typed Parquet under the lake: it decodes
// the bytes, matches the header to the dataset's contract through the source profile,
// coerces every value, and streams accepted rows as Arrow record batches into pqarrow
// writers while every rejected row goes, with its line, raw text and reason, to a rejects
// file. It accounts for every row: read = accepted + rejected.
//
// The work is parallel and memory is flat: one goroutine cuts the text into chunks of whole
// records, a pool of workers parses chunks, and each worker owns its own Parquet writers (one
// per partition), so encoding runs on every core and nothing holds more than a batch per
// partition per worker. Ingest writes into a staging folder; the caller publishes the files
// by rename and then records them in the ledger.
//
// The package knows nothing of the workspace, the ledger or DuckDB.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
)

// Status is what became of a file.
type Status string

// File statuses.
const (
	// StatusIngested: the file was read; its accepted rows are in the lake.
	StatusIngested Status = "ingested"
	// StatusRejected: the file could not be read as its dataset at all.
	StatusRejected Status = "rejected"
	// StatusQuarantined: too many rows were rejected; none of the file's rows are used.
	StatusQuarantined Status = "quarantined"
)

// Input is one file to read.
type Input struct {
	Path    string // where the bytes are
	Source  string // the name it was delivered under, for messages and lineage
	SHA256  string // hex digest of the bytes
	Dataset *contract.Dataset
	Profile *config.Profile // nil: canonical headers, auto encoding, comma
}

// Options tune one ingest.
type Options struct {
	BatchID string
	// StageDir receives the Parquet files; empty means validate only: parse and count,
	// write nothing.
	StageDir        string
	Workers         int
	BatchRows       int
	ChunkBytes      int
	RejectRateLimit float64
	// KeepRejects is how many rejects Result.FirstRejects holds (default 20).
	KeepRejects int
	Alloc       memory.Allocator
	Logger      *slog.Logger
}

// Result accounts for one file.
type Result struct {
	Status   Status
	Reason   Reason // why a file was rejected or quarantined
	Message  string
	Encoding string

	RowsRead, RowsAccepted, RowsRejected int64
	RejectsByReason                      map[Reason]int64
	// FirstRejects are the first rejects in the order found, for messages.
	FirstRejects []Reject

	// Outputs are the Parquet files written, relative to StageDir, sorted.
	Outputs []string
	// RejectsFile is the rejects Parquet file relative to StageDir, or "".
	RejectsFile string
	// IgnoredColumns are header cells that map to no canonical column.
	IgnoredColumns []string
}

// DataPath is where a file's rows for one partition go, relative to the lake root.
func DataPath(ds *contract.Dataset, partition, sha string, worker int) string {
	dir := ds.Name
	if ds.PartitionBy != "" {
		dir = path.Join(dir, ds.PartitionBy+"="+partition)
	}
	return path.Join(dir, fmt.Sprintf("%s-%d.parquet", shortSHA(sha), worker))
}

// RejectsPath is where a file's rejects go, relative to the lake root.
func RejectsPath(sha string) string { return path.Join("_rejects", shortSHA(sha)+".parquet") }

func shortSHA(sha string) string {
	if len(sha) > 16 {
		return sha[:16]
	}
	return sha
}

// File reads one delivered file. A file that cannot be read as its dataset is not an error:
// it comes back with Status rejected and a Reason. Errors are for the machine failing
// (disk full, cancelled), and then nothing the ingest wrote is left behind.
func File(ctx context.Context, in Input, opt Options) (res Result, err error) {
	opt = withDefaults(opt)
	log := opt.Logger.With("stage", "ingest", "file", in.Source, "dataset", in.Dataset.Name)
	res.RejectsByReason = map[Reason]int64{}

	f, err := os.Open(in.Path)
	if err != nil {
		return res, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()

	enc := csvscan.Auto
	delim := byte(',')
	if p := in.Profile; p != nil {
		if p.Encoding != "" {
			if enc, err = csvscan.ParseEncoding(p.Encoding); err != nil {
				return res, fmt.Errorf("ingest: profile %s: %w", p.Name, err)
			}
		}
		if p.Delimiter != "" {
			delim = p.Delimiter[0]
		}
	}
	dec, err := csvscan.NewDecoder(f, enc)
	if err != nil {
		return rejectWhole(res, ReasonUnreadable, err.Error()), nil
	}
	chunker := csvscan.NewChunker(dec, opt.ChunkBytes)
	chunker.Delim = delim
	first, err := chunker.Next()
	if errors.Is(err, io.EOF) {
		return rejectWhole(res, ReasonEmptyFile, "the file is empty: no header row"), nil
	}
	if err != nil {
		return rejectWhole(res, ReasonUnreadable, err.Error()), nil
	}
	res.Encoding = string(dec.Detected())
	if bytes.IndexByte(first.Data, 0) >= 0 {
		return rejectWhole(res, ReasonBinaryFile, "the file holds NUL bytes: it is not CSV text (a spreadsheet or archive saved with a .csv name?)"), nil
	}
	it := first.Records(delim)
	if !it.Next() {
		return rejectWhole(res, ReasonEmptyFile, "the file has no header row"), nil
	}
	header := make([]string, len(it.Fields()))
	for i, h := range it.Fields() {
		header[i] = string(h)
	}
	lay, lerr := newLayout(in.Dataset, header, in.Profile)
	var fe *fileError
	if errors.As(lerr, &fe) {
		return rejectWhole(res, fe.Reason, fe.Message), nil
	}
	res.IgnoredColumns = lay.ignored

	run := &fileRun{in: in, opt: opt, lay: lay, delim: delim, schema: LakeSchema(in.Dataset)}
	rejectsPath := ""
	if opt.StageDir != "" {
		rejectsPath = filepath.Join(opt.StageDir, RejectsPath(in.SHA256))
	}
	run.rejects = newRejectWriter(rejectsPath, in.SHA256, in.Source, opt.BatchID, opt.Alloc, opt.KeepRejects)
	if err := run.parallel(ctx, first, chunker); err != nil {
		run.abort()
		return res, fmt.Errorf("ingest %s: %w", in.Source, err)
	}
	// A Windows-1252 byte may first appear past the sniffed start: ask again at the end.
	res.Encoding = string(dec.Detected())
	res.RowsRead = run.read.Load()
	res.RowsAccepted = run.accepted.Load()
	res.RowsRejected = run.rejects.count
	res.RejectsByReason = run.rejects.byReason
	res.FirstRejects = run.rejects.first
	res.Status = StatusIngested

	if res.RowsRead > 0 && float64(res.RowsRejected)/float64(res.RowsRead) > opt.RejectRateLimit {
		log.Warn("quarantining file", "rows_read", res.RowsRead, "rows_rejected", res.RowsRejected)
		if err := run.quarantine(ctx, &res); err != nil {
			run.abort()
			return res, fmt.Errorf("ingest %s: %w", in.Source, err)
		}
	}
	outputs, wrote, err := run.close()
	if err != nil {
		run.abort()
		return res, fmt.Errorf("ingest %s: %w", in.Source, err)
	}
	res.Outputs = outputs
	if wrote {
		res.RejectsFile = RejectsPath(in.SHA256)
	}
	if res.RowsRead != res.RowsAccepted+res.RowsRejected {
		run.abort()
		return res, fmt.Errorf("ingest %s: rows read %d != accepted %d + rejected %d", in.Source, res.RowsRead, res.RowsAccepted, res.RowsRejected)
	}
	log.Debug("file read", "rows_read", res.RowsRead, "accepted", res.RowsAccepted, "rejected", res.RowsRejected, "status", res.Status)
	return res, nil
}

func withDefaults(opt Options) Options {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.BatchRows <= 0 {
		opt.BatchRows = config.DefaultBatchRows
	}
	if opt.ChunkBytes <= 0 {
		opt.ChunkBytes = config.DefaultChunkBytes
	}
	if opt.RejectRateLimit <= 0 {
		opt.RejectRateLimit = config.DefaultRejectRateLimit
	}
	if opt.KeepRejects <= 0 {
		opt.KeepRejects = 20
	}
	if opt.Alloc == nil {
		opt.Alloc = memory.DefaultAllocator
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return opt
}

func rejectWhole(res Result, reason Reason, msg string) Result {
	res.Status = StatusRejected
	res.Reason = reason
	res.Message = msg
	return res
}

// fileRun is the shared state of one file's parallel read.
type fileRun struct {
	in     Input
	opt    Options
	lay    *layout
	delim  byte
	schema *arrow.Schema

	read, accepted atomic.Int64
	rejects        *rejectWriter

	writers []map[string]*partWriter // per worker, by partition value
}

type job struct {
	chunk      csvscan.Chunk
	skipHeader bool
}

func (r *fileRun) parallel(ctx context.Context, first csvscan.Chunk, chunker *csvscan.Chunker) error {
	jobs := make(chan job, r.opt.Workers)
	errs := make(chan error, r.opt.Workers+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.writers = make([]map[string]*partWriter, r.opt.Workers)
	var wg sync.WaitGroup
	for w := 0; w < r.opt.Workers; w++ {
		r.writers[w] = map[string]*partWriter{}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			parser := newRowParser(r.lay)
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := r.parseChunk(w, parser, j); err != nil {
					errs <- err
					cancel()
				}
			}
		}(w)
	}
	feedErr := func() error {
		defer close(jobs)
		j := job{chunk: first, skipHeader: true}
		for {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			c, err := chunker.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			j = job{chunk: c}
		}
	}()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return feedErr
}

func (r *fileRun) parseChunk(w int, parser *rowParser, j job) error {
	it := j.chunk.Records(r.delim)
	if j.skipHeader {
		it.Next()
	}
	sha := []byte(r.in.SHA256)
	batchID := []byte(r.opt.BatchID)
	partCol := r.lay.dataset.Column(r.lay.dataset.PartitionBy)
	var read, accepted int64
	for it.Next() {
		read++
		line := int64(it.Line())
		if p := it.Problem(); p != nil {
			if err := r.rejects.add(Reject{Line: line, Reason: ReasonMalformedCSV, Message: p.Error(), Raw: string(it.Raw())}); err != nil {
				return err
			}
			continue
		}
		if rerr := parser.parse(it.Fields()); rerr != nil {
			if err := r.rejects.add(Reject{Line: line, Column: rerr.Column, Reason: rerr.Reason, Message: rerr.Message, Raw: string(it.Raw())}); err != nil {
				return err
			}
			continue
		}
		accepted++
		if r.opt.StageDir == "" {
			continue
		}
		partition := ""
		if partCol >= 0 {
			partition = string(parser.cells[partCol].s)
		}
		pw, err := r.writer(w, partition)
		if err != nil {
			return err
		}
		if err := pw.append(parser.cells, sha, line, batchID, r.opt.BatchRows); err != nil {
			return err
		}
	}
	r.read.Add(read)
	r.accepted.Add(accepted)
	return nil
}

func (r *fileRun) writer(w int, partition string) (*partWriter, error) {
	if pw, ok := r.writers[w][partition]; ok {
		return pw, nil
	}
	rel := DataPath(r.lay.dataset, partition, r.in.SHA256, w)
	pw, err := newPartWriter(filepath.Join(r.opt.StageDir, rel), r.lay.dataset, r.schema, r.opt.Alloc, r.opt.BatchRows)
	if err != nil {
		return nil, err
	}
	r.writers[w][partition] = pw
	return pw, nil
}

// close finishes every writer and returns the data files written, relative to StageDir.
func (r *fileRun) close() ([]string, bool, error) {
	var outputs []string
	var firstErr error
	for _, ws := range r.writers {
		for _, pw := range ws {
			if err := pw.close(); err != nil && firstErr == nil {
				firstErr = err
			}
			rel, _ := filepath.Rel(r.opt.StageDir, pw.path)
			outputs = append(outputs, filepath.ToSlash(rel))
		}
	}
	r.writers = nil
	wrote, err := r.rejects.close()
	if firstErr == nil {
		firstErr = err
	}
	sort.Strings(outputs)
	return outputs, wrote, firstErr
}

func (r *fileRun) abort() {
	for _, ws := range r.writers {
		for _, pw := range ws {
			pw.abort()
		}
	}
	r.writers = nil
	r.rejects.abort()
}

// quarantine drops the file's accepted rows and rejects each of them as file_quarantined,
// so the accounting still holds and a department sees every line it must resend.
func (r *fileRun) quarantine(ctx context.Context, res *Result) error {
	for _, ws := range r.writers {
		for _, pw := range ws {
			pw.abort()
		}
	}
	r.writers = nil
	f, err := os.Open(r.in.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := csvscan.Auto
	if p := r.in.Profile; p != nil && p.Encoding != "" {
		enc, _ = csvscan.ParseEncoding(p.Encoding)
	}
	dec, err := csvscan.NewDecoder(f, enc)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("row is valid, but %d of the file's %d rows were rejected (more than %.0f%%), so the whole file is held back: correct the file and send it again",
		res.RowsRejected, res.RowsRead, 100*r.opt.RejectRateLimit)
	sc := csvscan.NewScanner(dec, r.delim)
	parser := newRowParser(r.lay)
	header := true
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if header {
			header = false
			continue
		}
		if sc.Problem() != nil || parser.parse(sc.Fields()) != nil {
			continue // already rejected for its own reason
		}
		if err := r.rejects.add(Reject{Line: int64(sc.Line()), Reason: ReasonFileQuarantined, Message: msg, Raw: string(sc.Raw())}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	res.Status = StatusQuarantined
	res.Reason = ReasonRejectRate
	res.Message = msg
	res.RowsAccepted = 0
	res.RowsRejected = r.rejects.count
	res.RejectsByReason = r.rejects.byReason
	return nil
}

// SummarizeReasons renders counts by reason, largest first, for logs and messages.
func SummarizeReasons(by map[Reason]int64) string {
	type kv struct {
		r Reason
		n int64
	}
	var xs []kv
	for r, n := range by {
		xs = append(xs, kv{r, n})
	}
	sort.Slice(xs, func(i, j int) bool {
		if xs[i].n != xs[j].n {
			return xs[i].n > xs[j].n
		}
		return xs[i].r < xs[j].r
	})
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%s %d", x.r, x.n)
	}
	return strings.Join(parts, ", ")
}
