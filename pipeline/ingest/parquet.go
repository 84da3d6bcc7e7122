package ingest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"

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
	props := dataProperties(mem, batchRows, plain...)
	return props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema())
}

// textColumns, moneyColumns and int32Columns name every text, every money and every whole
// number or date column of every dataset.
var (
	textColumns  = columnsWhere(func(c contract.Column) bool { return ArrowType(c.Type).ID() == arrow.STRING })
	moneyColumns = columnsWhere(func(c contract.Column) bool { return c.Type == contract.Money })
	int32Columns = columnsWhere(func(c contract.Column) bool { return kindOf(ArrowType(c.Type)) == kindInt32 })
)

// columnsWhere returns the names of the contract columns, across datasets, that keep says
// to keep, each once.
func columnsWhere(keep func(contract.Column) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, ds := range contract.All() {
		for _, c := range ds.Columns {
			if keep(c) && !seen[c.Name] {
				seen[c.Name] = true
				out = append(out, c.Name)
			}
		}
	}
	return out
}

func dataProperties(mem memory.Allocator, batchRows int, plain ...string) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		// The lineage columns hold one value per file: statistics would only repeat it,
		// at the cost of a pass over every row group.
		parquet.WithStatsFor(contract.LineageFileSHA256, false),
		// Uncompressed (it is one dictionary value a row group), so that the digest's bytes
		// stand in the file as they are, for patchDigest to find.
		parquet.WithCompressionFor(contract.LineageFileSHA256, compress.Codecs.Uncompressed),
		parquet.WithStatsFor(contract.LineageBatchID, false),
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
	// Source lines rise by one from row to row: delta encoding stores them in a few bits
	// where plain needs 64 for zstd to work through.
	opts = append(opts, parquet.WithEncodingFor(contract.LineageSourceLine, parquet.Encodings.DeltaBinaryPacked))
	// Whole numbers and dates: delta encoding bit-packs the differences from row to row (a
	// period in 5 bits, a day of the year in 9), where a dictionary would hash every value
	// to get about the same.
	for _, col := range int32Columns {
		opts = append(opts, parquet.WithEncodingFor(col, parquet.Encodings.DeltaBinaryPacked))
	}
	// Amounts are stored as INT64 pence: delta encoding bit-packs them at the width they
	// need (a £1m line is 27 bits, not 64), which makes the files about 7% smaller. What is
	// left after that is as good as random: zstd saves nothing on those pages (it stores
	// them raw, after looking), so they are written uncompressed.
	for _, col := range moneyColumns {
		opts = append(opts, parquet.WithEncodingFor(col, parquet.Encodings.DeltaBinaryPacked),
			parquet.WithCompressionFor(col, compress.Codecs.Uncompressed))
	}
	// Text columns carry no min/max statistics: for a dictionary column pqarrow finds the
	// referenced values of every page with a hash pass over its indices, and nothing reads
	// text ranges (the warehouse loads whole files; analysts query the warehouse). Dates,
	// periods and amounts keep theirs, which is what row-group pruning uses.
	for _, col := range textColumns {
		opts = append(opts, parquet.WithStatsFor(col, false))
	}
	return parquet.NewWriterProperties(opts...)
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
)

func kindOf(dt arrow.DataType) colKind {
	switch dt.ID() {
	case arrow.INT32, arrow.DATE32:
		return kindInt32
	case arrow.INT64, arrow.EXTENSION: // the only extension type is penceType
		return kindInt64
	case arrow.FLOAT64:
		return kindFloat64
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

// appendValidity records only whether row number row is null, for a column whose values
// go elsewhere (a live dictionary).
func (b *colBuf) appendValidity(null bool, row int) {
	if row&7 == 0 {
		b.valid = append(b.valid, 0xff)
	}
	if null {
		b.nulls++
		b.valid[row>>3] &^= 1 << (row & 7)
	}
}

// append adds a cell as row number row (the number of rows before it).
func (b *colBuf) append(c *cell, row int) {
	if row&7 == 0 {
		// Every bit starts set, so only a null row, the rare one, writes to the bitmap;
		// validBitmap clears the bits past the last row.
		b.valid = append(b.valid, 0xff)
	}
	if c.null {
		b.nulls++
		b.valid[row>>3] &^= 1 << (row & 7)
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
	}
}

// array wraps the buffer's first rows as an Arrow array without copying. The array
// borrows the buffer's memory: it must be released before the buffer is reset.
func (b *colBuf) array(rows int) arrow.Array {
	data := b.arrayData(rows)
	defer data.Release()
	return array.MakeFromData(data)
}

// validBitmap returns the validity bitmap of the buffer's rows (which must be all of its
// rows), its bits past the last row clear.
func (b *colBuf) validBitmap(rows int) []byte {
	if rows&7 != 0 {
		b.valid[rows>>3] &= 1<<(rows&7) - 1
	}
	return b.valid
}

func (b *colBuf) arrayData(rows int) arrow.ArrayData {
	var valid *memory.Buffer
	if b.nulls > 0 {
		valid = memory.NewBufferBytes(b.validBitmap(rows))
	}
	bufs := []*memory.Buffer{valid, memory.NewBufferBytes(b.values)}
	if b.kind == kindBinary {
		bufs = []*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.offsets)), memory.NewBufferBytes(b.values)}
	}
	return array.NewData(b.dt, rows, bufs, nil, b.nulls, 0)
}

// rowGroup is a partition's rows on their way to one Parquet row group: the contract's
// columns (less the partition column) and _source_line. The two lineage columns that are
// the same on every row of a file are added when the batch is made.
type rowGroup struct {
	rows  int
	bytes int // memory held, roughly: what the row group costs while it fills
	cols  []colBuf
	line  colBuf
	dicts []dictScratch // per column, for dictionary columns
	// live says which columns are dictionary-encoded as rows arrive: once the file's plan
	// is known, a dictionary column's rows go straight to ids while their bytes are still
	// in the cache, instead of being copied and encoded in a second pass (nil: not yet).
	live []bool
}

// dictScratch turns a text column into dictionary indices, keeping its memory from one row
// group to the next.
type dictScratch struct {
	ids     map[string]int32
	slots   []int32 // a cache in front of ids: 1 + the id of a value hashing to the slot, or 0
	indices []int32
	values  colBuf // the distinct values, in order of first appearance
	lastID  int32  // the id of the value last added, or -1
	// seed are an Enum column's allowed values, given ids 0, 1, … before any row, so that
	// appendRow takes a row's id from its cell (the value's index) without looking it up.
	seed []string
}

// clear empties the scratch for a new row group, keeping its memory.
func (d *dictScratch) clear() {
	if d.ids == nil {
		d.ids = map[string]int32{}
		d.values = colBuf{kind: kindBinary, dt: arrow.BinaryTypes.String}
		d.slots = make([]int32, 1<<dictSlotBits)
	}
	clear(d.ids)
	clear(d.slots)
	d.values.reset()
	d.indices = d.indices[:0]
	d.lastID = -1
	for id, v := range d.seed {
		d.ids[v] = int32(id)
		d.values.values = append(d.values.values, v...)
		d.values.offsets = append(d.values.offsets, int32(len(d.values.values)))
	}
}

// add appends the id of v, giving v a new id if it is new. Returns come grouped by project
// and department, so a value usually repeats the one before, which costs one comparison;
// dictionary columns hold a few hundred values at most, so the next most likely place is
// its slot of the cache (a cheap hash and one comparison); the map settles the rest and
// decides every id.
func (d *dictScratch) add(v []byte) {
	off := d.values.offsets
	if id := d.lastID; id >= 0 && string(d.values.values[off[id]:off[id+1]]) == string(v) {
		d.indices = append(d.indices, id)
		return
	}
	slot := &d.slots[dictSlot(v)]
	if id := *slot - 1; id >= 0 && string(d.values.values[off[id]:off[id+1]]) == string(v) {
		d.indices = append(d.indices, id)
		d.lastID = id
		return
	}
	id, ok := d.ids[string(v)]
	if !ok {
		id = int32(len(d.values.offsets) - 1)
		d.ids[string(v)] = id
		d.values.values = append(d.values.values, v...)
		d.values.offsets = append(d.values.offsets, int32(len(d.values.values)))
	}
	*slot = id + 1
	d.indices = append(d.indices, id)
	d.lastID = id
}

// newRowGroup makes an empty row group for schema's first len(allowed) columns; allowed
// holds each Enum column's allowed values (nil for other columns).
func newRowGroup(schema *arrow.Schema, allowed [][]string) *rowGroup {
	dataCols := len(allowed)
	g := &rowGroup{cols: make([]colBuf, dataCols), dicts: make([]dictScratch, dataCols)}
	for i := range g.cols {
		g.dicts[i].seed = allowed[i]
		dt := writeType(schema.Field(i).Type)
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
		if g.live != nil && g.live[i] {
			g.dicts[i].clear()
		}
	}
	g.line.reset()
}

// goLive makes the dictionary columns of plan live (see rowGroup.live). The row group
// must be empty.
func (g *rowGroup) goLive(dict []bool) {
	if g.live != nil {
		return
	}
	g.live = dict
	for i := range g.cols {
		if dict[i] {
			g.dicts[i].clear()
		}
	}
}

// appendRow adds one accepted row. fieldOf maps a contract column to its column here, or
// -1 for the partition column.
func (g *rowGroup) appendRow(cells []cell, fieldOf []int, line int64) {
	row := g.rows
	n := 0
	for c := range cells {
		f := fieldOf[c]
		if f < 0 {
			continue
		}
		n += len(cells[c].s)
		if g.live != nil && g.live[f] {
			// Only the validity goes to the column buffer; the value becomes an id.
			g.cols[f].appendValidity(cells[c].null, row)
			switch d := &g.dicts[f]; {
			case cells[c].null:
				d.indices = append(d.indices, 0) // never read, but valid
			case d.seed != nil:
				d.indices = append(d.indices, int32(cells[c].i))
			default:
				d.add(cells[c].s)
			}
			continue
		}
		g.cols[f].append(&cells[c], row)
	}
	lc := cell{i: line}
	g.line.append(&lc, row)
	g.rows++
	g.bytes += n + len(g.cols)*9 + 9
}

// record makes the row group's Arrow record batch in the plan's write schema, borrowing
// the row group's memory; sha and batch are the constant lineage columns as dictionary
// arrays at least as long as the row group.
func (g *rowGroup) record(p *encodingPlan, sha, batch arrow.Array) arrow.RecordBatch {
	cols := make([]arrow.Array, 0, len(g.cols)+3)
	for i := range g.cols {
		if p.dict[i] {
			cols = append(cols, g.dictArray(i))
		} else {
			cols = append(cols, g.cols[i].array(g.rows))
		}
	}
	cols = append(cols, array.NewSlice(sha, 0, int64(g.rows)), g.line.array(g.rows), array.NewSlice(batch, 0, int64(g.rows)))
	rec := array.NewRecordBatch(p.schema, cols, int64(g.rows))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// dictArray encodes text column i as a dictionary array: from the ids already made when
// the column is live, else in one pass over the row group's values.
func (g *rowGroup) dictArray(i int) arrow.Array {
	b, d := &g.cols[i], &g.dicts[i]
	if g.live == nil || !g.live[i] {
		d.clear()
		for r := 0; r < g.rows; r++ {
			if b.nulls > 0 && b.valid[r>>3]&(1<<(r&7)) == 0 {
				d.indices = append(d.indices, 0) // never read, but must be a valid index
				continue
			}
			d.add(b.values[b.offsets[r]:b.offsets[r+1]])
		}
	}
	if len(d.values.offsets) == 1 { // every row null: index 0 still needs a value
		d.values.offsets = append(d.values.offsets, 0)
	}
	dictData := d.values.arrayData(len(d.values.offsets) - 1)
	defer dictData.Release()
	var valid *memory.Buffer
	if b.nulls > 0 {
		valid = memory.NewBufferBytes(b.validBitmap(g.rows))
	}
	data := array.NewData(dictString, g.rows, []*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(d.indices))}, nil, b.nulls, 0)
	data.SetDictionary(dictData)
	defer data.Release()
	return array.MakeFromData(data)
}

// dictSlotBits is the size of dictArray's cache: 2048 slots.
const dictSlotBits = 11

// dictSlot hashes a value to its slot of dictArray's cache from its length and its first
// and last bytes.
func dictSlot(v []byte) uint32 {
	n := len(v)
	var x uint64
	switch {
	case n >= 8:
		x = binary.LittleEndian.Uint64(v) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(v[n-8:]), 29)
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(v)) | uint64(binary.LittleEndian.Uint32(v[n-4:]))<<32
	case n > 0:
		x = uint64(v[0]) | uint64(v[n/2])<<8 | uint64(v[n-1])<<16
	}
	x ^= uint64(n) << 56
	return uint32((x * 0x9E3779B97F4A7C15) >> (64 - dictSlotBits))
}

// encodingPlan is how one file's columns are handed to the Parquet writer, decided once
// from the file's first row group.
//
// A text column whose values repeat (department, project, enumerations, the lineage
// columns) goes as an Arrow dictionary array built here with a Go map: pqarrow then writes
// the indices as they are, where for a plain string array it would hash every value through
// its memo table, allocating as it goes, which was the largest single cost of the ingest.
// The dictionary type is only how the batch is passed: the files do not store the Arrow
// schema, so every reader sees the Parquet types (text, DECIMAL(18,2), DATE, INT).
// Text whose values are nearly all distinct, and every number and date, are written
// without a dictionary.
type encodingPlan struct {
	schema *arrow.Schema // the write schema: the lake schema with dictionary text columns
	dict   []bool        // by rowGroup column
	plain  []string      // column names written without a dictionary
}

var dictString = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

func (g *rowGroup) plan(lake *arrow.Schema) *encodingPlan {
	p := &encodingPlan{dict: make([]bool, len(g.cols))}
	fields := slices.Clone(lake.Fields())
	plain := map[string]bool{}
	for _, name := range g.plainColumns(lake) {
		plain[name] = true
	}
	for i := range fields {
		name := fields[i].Name
		fields[i].Type = writeType(fields[i].Type)
		isText := fields[i].Type.ID() == arrow.STRING
		switch {
		case name == contract.LineageFileSHA256 || name == contract.LineageBatchID:
			fields[i].Type = dictString
		case i < len(g.cols) && isText && !plain[name]:
			fields[i].Type = dictString
			p.dict[i] = true
		default:
			// Numbers and dates go without a dictionary. Whole numbers and dates are
			// delta-encoded (dataProperties): a period or a day of a return differs from the
			// row before by a few bits' worth, about what a dictionary index costs, without
			// hashing every value into a dictionary first; amounts and line numbers, nearly
			// all distinct, would only fill one.
			p.plain = append(p.plain, name)
		}
	}
	p.schema = arrow.NewSchema(fields, nil)
	return p
}

// plainColumns picks the text columns of a file's first row group whose values are nearly
// all distinct (transaction references, free text): they are written without a dictionary.
// A sample of the first rows decides, so the cost does not grow with the file.
func (g *rowGroup) plainColumns(schema *arrow.Schema) []string {
	const sample = 2048
	n := min(g.rows, sample)
	if n < 64 {
		return nil
	}
	var plain []string
	seen := map[string]struct{}{}
	for i := range g.cols {
		b := &g.cols[i]
		if b.kind != kindBinary {
			continue
		}
		clear(seen)
		for r := 0; r < n; r++ {
			seen[string(b.values[b.offsets[r]:b.offsets[r+1]])] = struct{}{}
		}
		if len(seen) > n/2 {
			plain = append(plain, schema.Field(i).Name)
		}
	}
	return plain
}

// constantDict returns a dictionary array of n rows that all hold s.
func constantDict(s string, n int) arrow.Array {
	dict := colBuf{kind: kindBinary, dt: arrow.BinaryTypes.String}
	dict.reset()
	dict.values = append(dict.values, s...)
	dict.offsets = append(dict.offsets, int32(len(s)))
	dictData := dict.arrayData(1)
	defer dictData.Release()
	zeros := make([]int32, n)
	data := array.NewData(dictString, n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(zeros))}, nil, 0, 0)
	data.SetDictionary(dictData)
	defer data.Release()
	return array.MakeFromData(data)
}

// partFile is one partition's Parquet file. Row groups are written one at a time; workers
// take turns.
type partFile struct {
	path string
	fw   *pqarrow.FileWriter
}

func openPartFile(path string, plan *encodingPlan, mem memory.Allocator, batchRows int) (*partFile, error) {
	sink, err := createBuffered(path)
	if err != nil {
		return nil, err
	}
	props := dataProperties(mem, batchRows, plan.plain...)
	fw, err := pqarrow.NewFileWriter(plan.schema, sink, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
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
