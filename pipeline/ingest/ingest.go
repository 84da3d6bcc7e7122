// Package ingest turns one delivered CSV file into typed Parquet under the lake: it decodes
// the bytes, matches the header to the dataset's contract through the source profile,
// coerces every value, and streams accepted rows as Arrow record batches into pqarrow
// writers while every rejected row goes, with its line, raw text and reason, to a rejects
// file. It accounts for every row: read = accepted + rejected.
//
// The work is parallel and memory is flat: one goroutine cuts the text into chunks of whole
// records (recycling their buffers), a pool of workers parses chunks and appends accepted
// rows to their partition's row group, laid out as Arrow memory from the start. The worker
// that fills a row group encodes it into the partition's one Parquet file while the others
// go on parsing, so encoding runs on every core; a bound on the bytes waiting in row groups
// keeps memory flat however many partitions a file spans. Ingest writes into a staging
// folder; the caller publishes the files by rename and then records them in the ledger.
//
// The package knows nothing of the workspace or DuckDB and writes no ledger records; it
// borrows only the ledger's names for what became of a file.
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

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/textutil"
)

// Status is what became of a file.
type Status string

// File statuses.
const (
	// StatusIngested: the file was read; its accepted rows are in the lake.
	StatusIngested Status = ledger.StatusIngested
	// StatusRejected: the file could not be read as its dataset at all.
	StatusRejected Status = ledger.StatusRejected
	// StatusQuarantined: too many rows were rejected; none of the file's rows are used.
	StatusQuarantined Status = ledger.StatusQuarantined
)

// DefaultBufferBytes is Options.BufferBytes when unset: room for about eight full row
// groups of a spend-like file (~100 bytes a row) before any is cut short.
const DefaultBufferBytes = 32 << 20

// Input is one file to read.
type Input struct {
	Path string // where the bytes are
	// Source is the name the file was delivered under, for messages and lineage. It may be
	// any bytes (SMB and FTP clients write Windows-1252 names as they are); File stores it
	// as textutil.ToUTF8 reads it, since Parquet and DuckDB take only valid UTF-8.
	Source  string
	SHA256  string // hex digest of the bytes; empty: File computes it alongside the read
	Dataset *contract.Dataset
	Profile *config.Profile // nil: canonical headers, auto encoding, comma
}

// Options tune one ingest.
type Options struct {
	BatchID string
	// StageDir receives the Parquet files; empty means validate only: parse and count,
	// write nothing.
	StageDir string
	Workers  int
	// BatchRows is the rows of a full row group (and Arrow record batch) per partition.
	BatchRows  int
	ChunkBytes int
	// BufferBytes bounds the accepted rows waiting in memory for their row groups to fill,
	// across partitions (default DefaultBufferBytes); past it the largest is written early,
	// as a smaller row group. It keeps memory flat for a file spread over many partitions.
	BufferBytes     int
	RejectRateLimit float64
	// MaxRecordBytes caps one record, so a quote left open cannot swallow the rest of a
	// file into memory; 0 means csvscan's default. A file with a longer record is rejected.
	MaxRecordBytes int
	// KeepRejects is how many rejects Result.FirstRejects holds (default 20).
	KeepRejects int
	// MaxAmountGBP bounds every money value, in whole pounds either side of zero (default
	// config.DefaultMaxAmountGBP); a larger one rejects its row as out_of_range.
	MaxAmountGBP int64
	Alloc        memory.Allocator
	Logger       *slog.Logger
	// Progress, when set, is told as the file is read the bytes read and the rows parsed
	// so far (a terminal's progress display; see progress.go).
	Progress ProgressFunc
}

// Result accounts for one file.
type Result struct {
	SHA256   string // the file's digest, as given in Input or computed
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
	// HeaderLine is the physical line of the header (1 unless title lines sit above it;
	// 0 when no header was found); SkippedLines are the non-blank lines above it, clipped,
	// which are neither data nor rejects.
	HeaderLine   int
	SkippedLines []string
	// MoneyRounded counts the amounts of accepted rows rounded to the penny
	// (round_money_to_pence).
	MoneyRounded int64
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
	// Everything a file's Parquet holds is valid UTF-8: the text is decoded (csvscan), and
	// the strings that come from outside it are made so here, once per file, never per
	// row. One invalid byte in a rejects file made DuckDB refuse it, and so every build.
	in.Source = textutil.ToUTF8(in.Source)
	opt.BatchID = textutil.ToUTF8(opt.BatchID)
	log := opt.Logger.With("stage", "ingest", "file", in.Source, "dataset", in.Dataset.Name)
	res.RejectsByReason = map[Reason]int64{}
	res.SHA256 = in.SHA256

	f, err := os.Open(in.Path)
	if err != nil {
		return res, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()

	enc, delim, err := sourceFormat(in.Profile)
	if err != nil {
		return res, err
	}
	// The digest: given, not needed (validate), or hashed from the bytes as they are read.
	var src io.Reader = f
	counted := withProgress(f, opt.Progress)
	if counted != nil {
		src = counted
	}
	dig := knownDigest(in.SHA256)
	if in.SHA256 == "" && opt.StageDir != "" {
		if dig, src, err = hashingDigest(src); err != nil {
			return res, fmt.Errorf("ingest: %w", err)
		}
	}
	defer func() {
		if dig.provisional() && res.SHA256 == "" && err == nil {
			res.SHA256, _ = dig.finish(src) // a file rejected whole still reports its digest
		}
	}()
	dec, err := csvscan.NewDecoder(src, enc)
	if err != nil {
		return rejectWhole(res, ReasonUnreadable, err.Error()), nil
	}
	chunker := csvscan.NewChunker(dec, opt.ChunkBytes)
	chunker.Delim = delim
	if opt.MaxRecordBytes > 0 {
		chunker.MaxRecordBytes = opt.MaxRecordBytes
	}
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
	hdr, fe, err := findHeader(chunker, &first, delim, in.Dataset, in.Profile)
	if err != nil {
		return rejectWhole(res, ReasonUnreadable, err.Error()), nil
	}
	if fe != nil {
		res.HeaderLine = hdr.line
		return rejectWhole(res, fe.Reason, fe.Message), nil
	}
	lay := hdr.lay
	res.IgnoredColumns = lay.ignored
	res.HeaderLine, res.SkippedLines = hdr.line, hdr.skipped
	lay.maxPence = maxPence(opt.MaxAmountGBP)

	run := &fileRun{in: in, opt: opt, lay: lay, delim: delim, schema: LakeSchema(in.Dataset), headerRecords: hdr.records}
	run.digest = dig
	counted.countRows(run.read.Load)
	run.rejects = newRejectWriter(opt.StageDir, run.digest, in.Source, opt.BatchID, opt.Alloc, opt.KeepRejects)
	if err := run.parallel(ctx, first, chunker); err != nil {
		run.abort()
		if errors.Is(err, csvscan.ErrRecordTooLong) {
			// The file's own bytes are at fault (a quote never closed, most often), not
			// the machine: reject the file and let the batch go on.
			return rejectWhole(res, ReasonMalformedCSV, err.Error()), nil
		}
		return res, fmt.Errorf("ingest %s: %w", in.Source, err)
	}
	sum, err := dig.finish(src)
	if err != nil {
		run.abort()
		return res, fmt.Errorf("ingest %s: hashing: %w", in.Source, err)
	}
	// A Windows-1252 byte may first appear past the sniffed start: ask again at the end.
	res.Encoding = string(dec.Detected())
	res.RowsRead = run.read.Load()
	res.RowsAccepted = run.accepted.Load()
	res.RowsRejected = run.rejects.count
	res.RejectsByReason = run.rejects.byReason
	res.FirstRejects = run.rejects.first
	res.MoneyRounded = run.rounded.Load()
	res.Status = StatusIngested

	// Rows holding nothing but delimiters, totals and nil-return notes are rejected for
	// the record, but say nothing about whether the file is the right layout, so they do
	// not count towards quarantine.
	blank := res.RejectsByReason[ReasonBlankRow] + res.RejectsByReason[ReasonSummaryRow] + res.RejectsByReason[ReasonNilReturn]
	if considered := res.RowsRead - blank; considered > 0 && float64(res.RowsRejected-blank)/float64(considered) > opt.RejectRateLimit {
		log.Warn("quarantining file", "rows_read", res.RowsRead, "rows_rejected", res.RowsRejected)
		if err := run.quarantine(ctx, &res); err != nil {
			run.abort()
			return res, fmt.Errorf("ingest %s: %w", in.Source, err)
		}
	}
	outputs, wrote, err := run.close()
	if err == nil && dig.provisional() {
		outputs, err = run.settleDigest(outputs, wrote, sum)
	}
	if err != nil {
		run.abort()
		return res, fmt.Errorf("ingest %s: %w", in.Source, err)
	}
	res.SHA256 = sum
	res.Outputs = outputs
	if wrote {
		res.RejectsFile = RejectsPath(sum)
	}
	if res.RowsRead != res.RowsAccepted+res.RowsRejected {
		run.abort()
		return res, fmt.Errorf("ingest %s: rows read %d != accepted %d + rejected %d", in.Source, res.RowsRead, res.RowsAccepted, res.RowsRejected)
	}
	log.Debug("file read", "rows_read", res.RowsRead, "accepted", res.RowsAccepted, "rejected", res.RowsRejected, "status", res.Status)
	return res, nil
}

// settleDigest writes the real digest over the provisional one in every file written and
// renames each to the name the real digest gives.
func (r *fileRun) settleDigest(outputs []string, wroteRejects bool, sum string) ([]string, error) {
	rename := func(oldRel, newRel string) error {
		oldPath := filepath.Join(r.opt.StageDir, filepath.FromSlash(oldRel))
		if err := patchDigest(oldPath, r.digest.value, sum); err != nil {
			return err
		}
		return os.Rename(oldPath, filepath.Join(r.opt.StageDir, filepath.FromSlash(newRel)))
	}
	settled := make([]string, 0, len(outputs))
	for _, o := range outputs {
		to := path.Join(path.Dir(o), strings.Replace(path.Base(o), shortSHA(r.digest.value), shortSHA(sum), 1))
		if err := rename(o, to); err != nil {
			for _, done := range settled { // abort knows only the provisional names
				os.Remove(filepath.Join(r.opt.StageDir, filepath.FromSlash(done)))
			}
			return nil, fmt.Errorf("settling the digest: %w", err)
		}
		settled = append(settled, to)
	}
	if wroteRejects {
		if err := rename(RejectsPath(r.digest.value), RejectsPath(sum)); err != nil {
			return nil, fmt.Errorf("settling the digest: %w", err)
		}
	}
	sort.Strings(settled)
	return settled, nil
}

// sourceFormat is the encoding and delimiter a profile names: auto and comma by default.
func sourceFormat(p *config.Profile) (csvscan.Encoding, byte, error) {
	enc, delim := csvscan.Auto, byte(',')
	if p == nil {
		return enc, delim, nil
	}
	if p.Encoding != "" {
		var err error
		if enc, err = csvscan.ParseEncoding(p.Encoding); err != nil {
			return enc, delim, fmt.Errorf("ingest: profile %s: %w", p.Name, err)
		}
	}
	if p.Delimiter != "" {
		delim = p.Delimiter[0]
	}
	return enc, delim, nil
}

// OptionsFrom returns the options the config's ingest section sets; the caller adds where
// the files go (StageDir, BatchID) and how it logs.
func OptionsFrom(c config.Ingest) Options {
	return Options{
		Workers:         c.Workers,
		BatchRows:       c.BatchRows,
		ChunkBytes:      c.ChunkBytes,
		RejectRateLimit: c.RejectRateLimit,
		MaxAmountGBP:    c.MaxAmountGBP,
	}
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
	if opt.BufferBytes <= 0 {
		opt.BufferBytes = DefaultBufferBytes
	}
	if opt.RejectRateLimit <= 0 {
		opt.RejectRateLimit = config.DefaultRejectRateLimit
	}
	if opt.KeepRejects <= 0 {
		opt.KeepRejects = 20
	}
	if opt.MaxAmountGBP <= 0 {
		opt.MaxAmountGBP = config.DefaultMaxAmountGBP
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
	res.Message = textutil.ToUTF8(msg) // it may quote an I/O error, which may quote a path
	return res
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
