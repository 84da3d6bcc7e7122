package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
)

// fileRun is the shared state of one file's parallel read.
type fileRun struct {
	in     Input
	opt    Options
	lay    *layout
	delim  byte
	schema *arrow.Schema

	read, accepted atomic.Int64
	rounded        atomic.Int64 // amounts of accepted rows rounded to the penny
	// headerRecords is how many records of the first chunk come before the data: the
	// header and any title lines above it.
	headerRecords int
	rejects       *rejectWriter
	digest        *digest

	// fieldOf maps a contract column to its column in a rowGroup (-1: the partition
	// column, which lives in the folder name); partCol is the partition column or -1.
	fieldOf  []int
	dataCols int
	partCol  int
	// allowed holds, by rowGroup column, an Enum column's allowed values, which seed its
	// dictionary so that a value's id is its index there.
	allowed [][]string

	pmu   sync.Mutex // guards parts
	parts map[string]*partition

	fmu  sync.Mutex // guards free
	free []*rowGroup

	// buffered is roughly how many bytes of accepted rows wait in partially filled row
	// groups, across partitions; workers add to it every addedStep bytes or so, not on
	// every row, so that they do not fight over one cache line.
	buffered  atomic.Int64
	addedStep int

	planOnce   sync.Once
	plan       *encodingPlan                // decided from the first row group written
	livePlan   atomic.Pointer[encodingPlan] // plan, for row groups made after it, read without planOnce
	sha, batch arrow.Array                  // the constant lineage columns, BatchRows long
}

// partition is one Hive partition of a file: the row groups the workers are filling and
// the Parquet file their full row groups go to, so a file has one data file per partition.
// Each worker fills a row group of its own (g[worker]): rows are appended without a lock,
// and no row group's memory moves between the cores' caches as two workers take turns at
// it; only writing a full row group into the shared file takes the file's lock.
type partition struct {
	value string
	g     []*rowGroup // by worker; a worker touches only its own slot until close

	wmu sync.Mutex // guards f: one row group is written at a time
	f   *partFile
}

type job struct {
	chunk      csvscan.Chunk
	skipHeader bool
}

func (r *fileRun) init() {
	ds := r.lay.dataset
	r.parts = map[string]*partition{}
	r.partCol = ds.Column(ds.PartitionBy)
	r.addedStep = max(1, min(1<<16, r.opt.BufferBytes/16))
	r.fieldOf = make([]int, len(ds.Columns))
	for c, col := range ds.Columns {
		if c == r.partCol {
			r.fieldOf[c] = -1
			continue
		}
		r.fieldOf[c] = r.dataCols
		r.dataCols++
		var allowed []string
		if col.Type == contract.Enum {
			allowed = col.Allowed
		}
		r.allowed = append(r.allowed, allowed)
	}
}

func (r *fileRun) parallel(ctx context.Context, first csvscan.Chunk, chunker *csvscan.Chunker) error {
	r.init()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The workers take turns cutting the next chunk: no goroutine does nothing but feed the
	// others (on two cores a third busy goroutine only adds preemption), and no more chunks
	// are in flight than there are workers, so memory does not grow with the file.
	var (
		mu      sync.Mutex // guards chunker, pending, done and feedErr
		pending = &job{chunk: first, skipHeader: true}
		done    bool
		feedErr error
	)
	next := func() (job, bool) {
		mu.Lock()
		defer mu.Unlock()
		if pending != nil {
			j := *pending
			pending = nil
			return j, true
		}
		if done {
			return job{}, false
		}
		c, err := chunker.Next()
		if err != nil {
			done = true
			if !errors.Is(err, io.EOF) {
				feedErr = err
			}
			return job{}, false
		}
		return job{chunk: c}, true
	}
	errs := make(chan error, r.opt.Workers)
	var wg sync.WaitGroup
	for w := 0; w < r.opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &worker{id: w, parser: newRowParser(r.lay), parts: map[string]*partition{}}
			for ctx.Err() == nil {
				j, ok := next()
				if !ok {
					return
				}
				err := r.parseChunk(wk, j)
				chunker.Recycle(j.chunk)
				if err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if feedErr != nil {
		return feedErr
	}
	return ctx.Err()
}

// worker is one parsing goroutine's own state.
type worker struct {
	id     int // its slot in partition.g
	parser *rowParser
	it     *csvscan.RecordIter
	parts  map[string]*partition // a cache of fileRun.parts, read without the lock
	added  int                   // bytes appended since buffered was last updated
}

func (r *fileRun) parseChunk(wk *worker, j job) error {
	if wk.it == nil {
		wk.it = j.chunk.Records(r.delim)
	} else {
		wk.it.Reset(j.chunk, r.delim)
	}
	it, parser := wk.it, wk.parser
	if j.skipHeader {
		for range r.headerRecords {
			it.Next()
		}
	}
	var read, accepted, rounded int64
	defer func() {
		r.read.Add(read)
		r.accepted.Add(accepted)
		r.rounded.Add(rounded)
	}()
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
		rounded += int64(parser.rounded)
		if r.opt.StageDir == "" {
			continue
		}
		if err := r.append(wk, parser.cells, line); err != nil {
			return err
		}
	}
	return nil
}

// append adds an accepted row to its partition's row group, and writes the row group when
// it is full, or the largest one when too much waits in memory.
func (r *fileRun) append(wk *worker, cells []cell, line int64) error {
	var key []byte
	if r.partCol >= 0 {
		key = cells[r.partCol].s
	}
	p, ok := wk.parts[string(key)]
	if !ok {
		p = r.partition(string(key))
		wk.parts[p.value] = p
	}
	g := p.g[wk.id]
	if g == nil {
		g = r.rowGroup()
		p.g[wk.id] = g
	}
	before := g.bytes
	g.appendRow(cells, r.fieldOf, line)
	wk.added += g.bytes - before
	if g.rows >= r.opt.BatchRows {
		p.g[wk.id] = nil
		wk.added -= g.bytes
		return r.write(p, g)
	}
	if wk.added >= r.addedStep || wk.added <= -r.addedStep {
		total := r.buffered.Add(int64(wk.added))
		wk.added = 0
		if total > int64(r.opt.BufferBytes) {
			return r.writeLargest(wk)
		}
	}
	return nil
}

func (r *fileRun) partition(value string) *partition {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	p, ok := r.parts[value]
	if !ok {
		p = &partition{value: value, g: make([]*rowGroup, r.opt.Workers)}
		r.parts[value] = p
	}
	return p
}

func (r *fileRun) rowGroup() *rowGroup {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	var g *rowGroup
	if n := len(r.free); n > 0 {
		g = r.free[n-1]
		r.free = r.free[:n-1]
	} else {
		g = newRowGroup(r.schema, r.allowed)
	}
	if p := r.livePlan.Load(); p != nil {
		g.goLive(p.dict)
	}
	return g
}

// writeLargest writes the largest row group the worker is filling, so that a file spread
// over many partitions cannot hold a full row group of each in memory. Each worker sheds its
// own, so the bound holds without one worker reaching into another's row groups.
func (r *fileRun) writeLargest(wk *worker) error {
	var largest *partition
	most := 0
	for _, p := range wk.parts {
		if g := p.g[wk.id]; g != nil && g.bytes > most {
			largest, most = p, g.bytes
		}
	}
	if largest == nil {
		return nil
	}
	g := largest.g[wk.id]
	largest.g[wk.id] = nil
	r.buffered.Add(-int64(g.bytes))
	return r.write(largest, g)
}

// write writes a row group to its partition's file, opening the file on the first one,
// and recycles the row group's memory.
func (r *fileRun) write(p *partition, g *rowGroup) error {
	r.planOnce.Do(func() {
		r.plan = g.plan(r.schema)
		r.livePlan.Store(r.plan)
		r.sha = constantDict(r.digest.value, r.opt.BatchRows)
		r.batch = constantDict(r.opt.BatchID, r.opt.BatchRows)
	})
	sha := r.digest.value
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.f == nil {
		rel := DataPath(r.lay.dataset, p.value, sha, 0)
		f, err := openPartFile(filepath.Join(r.opt.StageDir, rel), r.plan, r.opt.Alloc, r.opt.BatchRows)
		if err != nil {
			return err
		}
		p.f = f
	}
	rec := g.record(r.plan, r.sha, r.batch)
	err := p.f.fw.Write(rec)
	rec.Release()
	g.reset()
	r.fmu.Lock()
	r.free = append(r.free, g)
	r.fmu.Unlock()
	return err
}

// close writes what is buffered, finishes every file and returns the data files written,
// relative to StageDir. The last row groups are written in parallel, as the rest were.
func (r *fileRun) close() ([]string, bool, error) {
	parts := make([]*partition, 0, len(r.parts))
	for _, p := range r.parts {
		parts = append(parts, p)
	}
	next := make(chan *partition)
	errs := make(chan error, len(parts))
	var wg sync.WaitGroup
	for range min(r.opt.Workers, len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				var err error
				for w, g := range p.g {
					if g != nil && g.rows > 0 && err == nil {
						err = r.write(p, g)
					}
					p.g[w] = nil
				}
				if p.f != nil && err == nil {
					err = p.f.close()
				}
				errs <- err
			}
		}()
	}
	for _, p := range parts {
		next <- p
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, false, err // abort removes what was written
		}
	}
	var outputs []string
	for _, p := range parts {
		if p.f != nil {
			rel, _ := filepath.Rel(r.opt.StageDir, p.f.path)
			outputs = append(outputs, filepath.ToSlash(rel))
		}
	}
	r.parts = nil
	r.free = nil
	r.releaseConstants()
	wrote, err := r.rejects.close()
	sort.Strings(outputs)
	return outputs, wrote, err
}

func (r *fileRun) releaseConstants() {
	if r.sha != nil {
		r.sha.Release()
		r.batch.Release()
		r.sha, r.batch = nil, nil
	}
}

func (r *fileRun) dropParts() {
	for _, p := range r.parts {
		if p.f != nil {
			p.f.abort()
		}
	}
	r.parts = nil
	r.free = nil
}

func (r *fileRun) abort() {
	r.dropParts()
	r.releaseConstants()
	r.rejects.abort()
}

// quarantine drops the file's accepted rows and rejects each of them as file_quarantined,
// so the accounting still holds and a department sees every line it must resend.
func (r *fileRun) quarantine(ctx context.Context, res *Result) error {
	r.dropParts()
	f, err := os.Open(r.in.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	enc, _, err := sourceFormat(r.in.Profile)
	if err != nil {
		return err
	}
	dec, err := csvscan.NewDecoder(f, enc)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("row is valid, but %d of the file's %d rows were rejected (more than %.0f%%), so the whole file is held back: correct the file and send it again",
		res.RowsRejected, res.RowsRead, 100*r.opt.RejectRateLimit)
	sc := csvscan.NewScanner(dec, r.delim)
	parser := newRowParser(r.lay)
	above := r.headerRecords // the header and the title lines above it
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if above > 0 {
			above--
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
	res.MoneyRounded = 0
	res.RowsRejected = r.rejects.count
	res.RejectsByReason = r.rejects.byReason
	return nil
}
