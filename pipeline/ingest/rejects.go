package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/evaluation-taskforce/sofpipe/pipeline/textutil"
)

// RejectsSchema is the layout of lake/_rejects/*.parquet and of the warehouse's _rejects.
var RejectsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "_file_sha256", Type: arrow.BinaryTypes.String},
	{Name: "source_path", Type: arrow.BinaryTypes.String},
	{Name: "line", Type: arrow.PrimitiveTypes.Int64},
	{Name: "column", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "reason", Type: arrow.BinaryTypes.String},
	{Name: "message", Type: arrow.BinaryTypes.String},
	{Name: "raw", Type: arrow.BinaryTypes.String},
	{Name: "_batch_id", Type: arrow.BinaryTypes.String},
}, nil)

// Reject is one rejected row (or, with Line 0, a whole file).
type Reject struct {
	Line    int64  `json:"line"`
	Column  string `json:"column,omitempty"`
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
	Raw     string `json:"raw"`
}

// rejectWriter streams one file's rejects to Parquet. Workers share it, so it locks; rejects
// are rare next to accepted rows, so the lock is not on the hot path.
type rejectWriter struct {
	mu        sync.Mutex
	stageDir  string
	digest    *digest
	path      string // set with the first reject
	sha       string
	source    string
	batchID   string
	mem       memory.Allocator
	batchRows int
	builder   *array.RecordBuilder
	fw        *pqarrow.FileWriter
	count     int64
	byReason  map[Reason]int64
	first     []Reject // the first few, for messages and validate
	keep      int      // how many to keep in first
}

// newRejectWriter writes under stageDir (empty: validate mode, nothing written); the file
// is named by the digest (perhaps the provisional one: see digest). The source name and
// batch id go into every row, so they are made valid UTF-8 here, once (see add).
func newRejectWriter(stageDir string, d *digest, source, batchID string, mem memory.Allocator, keep int) *rejectWriter {
	return &rejectWriter{stageDir: stageDir, digest: d, source: textutil.ToUTF8(source), batchID: textutil.ToUTF8(batchID), mem: mem, batchRows: 8192, byReason: map[Reason]int64{}, keep: keep}
}

func (r *rejectWriter) add(rej Reject) error {
	// The raw text and the values a message quotes come from the decoder, which yields
	// valid UTF-8 whatever the bytes. This is the guard at the one door into the rejects
	// file, so that no future message can make DuckDB refuse it; it costs a scan of the
	// strings when they are valid, on the rare path of a rejected row.
	rej.Column, rej.Message, rej.Raw = textutil.ToUTF8(rej.Column), textutil.ToUTF8(rej.Message), textutil.ToUTF8(rej.Raw)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	r.byReason[rej.Reason]++
	if len(r.first) < r.keep {
		r.first = append(r.first, rej)
	}
	if r.stageDir == "" {
		return nil // validate mode: count and keep the first few, write nothing
	}
	if r.fw == nil {
		r.sha = r.digest.value
		r.path = filepath.Join(r.stageDir, RejectsPath(r.sha))
		sink, err := createBuffered(r.path)
		if err != nil {
			return err
		}
		props, arrProps := writerProperties(r.mem, r.batchRows)
		if r.fw, err = pqarrow.NewFileWriter(RejectsSchema, sink, props, arrProps); err != nil {
			sink.Close()
			return fmt.Errorf("rejects writer: %w", err)
		}
		r.builder = array.NewRecordBuilder(r.mem, RejectsSchema)
	}
	b := r.builder
	b.Field(0).(*array.StringBuilder).Append(r.sha)
	b.Field(1).(*array.StringBuilder).Append(r.source)
	b.Field(2).(*array.Int64Builder).Append(rej.Line)
	if rej.Column == "" {
		b.Field(3).AppendNull()
	} else {
		b.Field(3).(*array.StringBuilder).Append(rej.Column)
	}
	b.Field(4).(*array.StringBuilder).Append(string(rej.Reason))
	b.Field(5).(*array.StringBuilder).Append(rej.Message)
	b.Field(6).(*array.StringBuilder).Append(rej.Raw)
	b.Field(7).(*array.StringBuilder).Append(r.batchID)
	if b.Field(0).Len() >= r.batchRows {
		return r.flushLocked()
	}
	return nil
}

func (r *rejectWriter) flushLocked() error {
	rec := r.builder.NewRecordBatch()
	defer rec.Release()
	if rec.NumRows() == 0 {
		return nil
	}
	return r.fw.Write(rec)
}

// close finishes the file; it reports whether a file was written.
func (r *rejectWriter) close() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fw == nil {
		return false, nil
	}
	err := r.flushLocked()
	if cerr := r.fw.Close(); err == nil {
		err = cerr
	}
	r.builder.Release()
	r.fw = nil
	return true, err
}

func (r *rejectWriter) abort() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fw != nil {
		r.fw.Close()
		r.builder.Release()
		r.fw = nil
		os.Remove(r.path)
	}
}
