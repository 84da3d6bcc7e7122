package ingest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
)

// MoneyType is how money is stored: DECIMAL(18,2), exact to the penny up to £10^16.
var MoneyType = &arrow.Decimal128Type{Precision: 18, Scale: 2}

// ArrowType is the Arrow type a contract column is stored as.
func ArrowType(t contract.Type) arrow.DataType {
	switch t {
	case contract.Int:
		return arrow.PrimitiveTypes.Int32
	case contract.Float:
		return arrow.PrimitiveTypes.Float64
	case contract.Money:
		return MoneyType
	case contract.Date:
		return arrow.FixedWidthTypes.Date32
	default:
		return arrow.BinaryTypes.String
	}
}

// LakeSchema is the Arrow schema of a dataset's lake files: the contract's columns in order,
// less the partition column (its value is the folder name), then the lineage columns.
func LakeSchema(ds *contract.Dataset) *arrow.Schema {
	fields := make([]arrow.Field, 0, len(ds.Columns)+3)
	for _, c := range ds.Columns {
		if c.Name == ds.PartitionBy {
			continue
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: ArrowType(c.Type), Nullable: !c.Required || c.Derived})
	}
	fields = append(fields,
		arrow.Field{Name: contract.LineageFileSHA256, Type: arrow.BinaryTypes.String},
		arrow.Field{Name: contract.LineageSourceLine, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: contract.LineageBatchID, Type: arrow.BinaryTypes.String},
	)
	return arrow.NewSchema(fields, nil)
}

// writerProperties are the Parquet settings of every lake file: zstd at its fastest level
// (the files are written once and read many times, but level 1 already gets most of the
// ratio), decimals stored as INT64 so readers get DECIMAL(18,2) without a byte-array decode,
// and no dictionary for the columns named in plain: hashing a column whose values are
// nearly all distinct costs more than the whole rest of its encoding and saves nothing.
func writerProperties(mem memory.Allocator, batchRows int, plain ...string) (*parquet.WriterProperties, pqarrow.ArrowWriterProperties) {
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithMaxRowGroupLength(int64(batchRows)),
		parquet.WithCreatedBy("sofpipe"),
	}
	for _, col := range plain {
		opts = append(opts, parquet.WithDictionaryFor(col, false))
	}
	return parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema())
}

// bufferedFile is the sink under a Parquet writer: buffered writes, and Close syncs the file
// to disk before closing so a later rename publishes complete bytes.
type bufferedFile struct {
	f *os.File
	*bufio.Writer
}

func createBuffered(path string) (*bufferedFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &bufferedFile{f: f, Writer: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (b *bufferedFile) Close() error {
	if err := b.Flush(); err != nil {
		b.f.Close()
		return err
	}
	if err := b.f.Sync(); err != nil {
		b.f.Close()
		return err
	}
	return b.f.Close()
}

// colKind is how a column's values are laid out in memory, which is all appending needs.
type colKind uint8

const (
	kindBinary colKind = iota
	kindInt32
	kindInt64
	kindFloat64
	kindDecimal128
)

func kindOf(dt arrow.DataType) colKind {
	switch dt.ID() {
	case arrow.INT32, arrow.DATE32:
		return kindInt32
	case arrow.INT64:
		return kindInt64
	case arrow.FLOAT64:
		return kindFloat64
	case arrow.DECIMAL128:
		return kindDecimal128
	}
	return kindBinary
}

// colBuf accumulates one column of a row group directly in Arrow's memory layout, so that
// making the record batch copies nothing, and it keeps its memory from one row group to the
// next, so that a long file makes no garbage for the collector to chase. (Arrow's builders
// start every batch from empty buffers and grow them by doubling.)
type colBuf struct {
	kind    colKind
	dt      arrow.DataType
	valid   []byte  // validity bitmap, one bit per row
	nulls   int     // rows whose bit is clear
	values  []byte  // fixed-width values, little-endian; or a binary column's bytes
	offsets []int32 // binary columns: rows+1 offsets into values
}

func (b *colBuf) reset() {
	b.valid, b.nulls, b.values = b.valid[:0], 0, b.values[:0]
	if b.kind == kindBinary {
		b.offsets = append(b.offsets[:0], 0)
	}
}

// append adds a cell as row number row (the number of rows before it).
func (b *colBuf) append(c *cell, row int) {
	if row&7 == 0 {
		b.valid = append(b.valid, 0)
	}
	if c.null {
		b.nulls++
	} else {
		b.valid[row>>3] |= 1 << (row & 7)
	}
	switch b.kind {
	case kindBinary:
		if !c.null {
			b.values = append(b.values, c.s...)
		}
		b.offsets = append(b.offsets, int32(len(b.values)))
	case kindInt32:
		b.values = binary.LittleEndian.AppendUint32(b.values, uint32(int32(c.i)))
	case kindInt64:
		b.values = binary.LittleEndian.AppendUint64(b.values, uint64(c.i))
	case kindFloat64:
		b.values = binary.LittleEndian.AppendUint64(b.values, math.Float64bits(c.f))
	case kindDecimal128: // low word, then the sign-extended high word
		b.values = binary.LittleEndian.AppendUint64(b.values, uint64(c.i))
		b.values = binary.LittleEndian.AppendUint64(b.values, uint64(c.i>>63))
	}
}

// array wraps the buffer's first rows as an Arrow array without copying. The array
// borrows the buffer's memory: it must be released before the buffer is reset.
func (b *colBuf) array(rows int) arrow.Array {
	var valid *memory.Buffer
	if b.nulls > 0 {
		valid = memory.NewBufferBytes(b.valid)
	}
	bufs := []*memory.Buffer{valid, memory.NewBufferBytes(b.values)}
	if b.kind == kindBinary {
		bufs = []*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.offsets)), memory.NewBufferBytes(b.values)}
	}
	data := array.NewData(b.dt, rows, bufs, nil, b.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// rowGroup is a partition's rows on their way to one Parquet row group: the contract's
// columns (less the partition column) and _source_line. The two lineage columns that are
// the same on every row of a file are added when the batch is made.
type rowGroup struct {
	rows  int
	bytes int // memory held, roughly: what the row group costs while it fills
	cols  []colBuf
	line  colBuf
}

func newRowGroup(schema *arrow.Schema, dataCols int) *rowGroup {
	g := &rowGroup{cols: make([]colBuf, dataCols)}
	for i := range g.cols {
		dt := schema.Field(i).Type
		g.cols[i] = colBuf{kind: kindOf(dt), dt: dt}
		g.cols[i].reset()
	}
	g.line = colBuf{kind: kindInt64, dt: arrow.PrimitiveTypes.Int64}
	g.line.reset()
	return g
}

func (g *rowGroup) reset() {
	g.rows, g.bytes = 0, 0
	for i := range g.cols {
		g.cols[i].reset()
	}
	g.line.reset()
}

// appendRow adds one accepted row. fieldOf maps a contract column to its column here, or
// -1 for the partition column.
func (g *rowGroup) appendRow(cells []cell, fieldOf []int, line int64) {
	row := g.rows
	n := 0
	for c := range cells {
		if f := fieldOf[c]; f >= 0 {
			g.cols[f].append(&cells[c], row)
			n += len(cells[c].s)
		}
	}
	lc := cell{i: line}
	g.line.append(&lc, row)
	g.rows++
	g.bytes += n + len(g.cols)*9 + 9
}

// record makes the row group's Arrow record batch, borrowing its memory; sha and batch are
// constant columns at least as long as the row group.
func (g *rowGroup) record(schema *arrow.Schema, sha, batch arrow.Array) arrow.RecordBatch {
	cols := make([]arrow.Array, 0, len(g.cols)+3)
	for i := range g.cols {
		cols = append(cols, g.cols[i].array(g.rows))
	}
	cols = append(cols, array.NewSlice(sha, 0, int64(g.rows)), g.line.array(g.rows), array.NewSlice(batch, 0, int64(g.rows)))
	rec := array.NewRecordBatch(schema, cols, int64(g.rows))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// plainColumns picks the columns of a file's first row group whose values are nearly all
// distinct (amounts, line numbers, transaction references): they are written without a
// dictionary. A sample of the first rows decides, so the cost does not grow with the file.
func (g *rowGroup) plainColumns(schema *arrow.Schema) []string {
	const sample = 2048
	n := min(g.rows, sample)
	if n < 64 {
		return []string{contract.LineageSourceLine}
	}
	plain := []string{contract.LineageSourceLine}
	seen := map[string]struct{}{}
	for i := range g.cols {
		b := &g.cols[i]
		clear(seen)
		for r := 0; r < n; r++ {
			var v []byte
			switch b.kind {
			case kindBinary:
				v = b.values[b.offsets[r]:b.offsets[r+1]]
			case kindInt32:
				v = b.values[4*r : 4*r+4]
			case kindInt64, kindFloat64:
				v = b.values[8*r : 8*r+8]
			case kindDecimal128:
				v = b.values[16*r : 16*r+16]
			}
			seen[string(v)] = struct{}{}
		}
		if len(seen) > n/2 {
			plain = append(plain, schema.Field(i).Name)
		}
	}
	return plain
}

// constantString returns a string array of n copies of s.
func constantString(mem memory.Allocator, s string, n int) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(n)
	b.ReserveData(n * len(s))
	for range n {
		b.Append(s)
	}
	return b.NewArray()
}

// partFile is one partition's Parquet file. Row groups are written one at a time; workers
// take turns.
type partFile struct {
	path string
	fw   *pqarrow.FileWriter
}

func openPartFile(path string, schema *arrow.Schema, mem memory.Allocator, batchRows int, plain []string) (*partFile, error) {
	sink, err := createBuffered(path)
	if err != nil {
		return nil, err
	}
	props, arrProps := writerProperties(mem, batchRows, plain...)
	fw, err := pqarrow.NewFileWriter(schema, sink, props, arrProps)
	if err != nil {
		sink.Close()
		os.Remove(path)
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return &partFile{path: path, fw: fw}, nil
}

func (f *partFile) close() error { return f.fw.Close() }

// abort closes and deletes the file.
func (f *partFile) abort() {
	f.fw.Close()
	os.Remove(f.path)
}
