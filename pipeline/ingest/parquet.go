package ingest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
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

// writerProperties are the Parquet settings of every lake file: zstd, and decimals stored as
// INT64 so readers get DECIMAL(18,2) without a byte-array decode.
func writerProperties(mem memory.Allocator, batchRows int) (*parquet.WriterProperties, pqarrow.ArrowWriterProperties) {
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithMaxRowGroupLength(int64(batchRows)),
		parquet.WithCreatedBy("sofpipe"),
	)
	return props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema())
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

// partWriter accumulates one partition's rows from one worker into Arrow builders and writes
// each full batch as a Parquet row group.
type partWriter struct {
	path      string
	rows      int64
	builder   *array.RecordBuilder
	appenders []func(*cell)
	sha       *array.StringBuilder
	line      *array.Int64Builder
	batch     *array.StringBuilder
	fw        *pqarrow.FileWriter
}

func newPartWriter(path string, ds *contract.Dataset, schema *arrow.Schema, mem memory.Allocator, batchRows int) (*partWriter, error) {
	sink, err := createBuffered(path)
	if err != nil {
		return nil, err
	}
	props, arrProps := writerProperties(mem, batchRows)
	fw, err := pqarrow.NewFileWriter(schema, sink, props, arrProps)
	if err != nil {
		sink.Close()
		os.Remove(path)
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	w := &partWriter{path: path, builder: array.NewRecordBuilder(mem, schema), fw: fw}
	w.builder.Reserve(batchRows)
	field := 0
	w.appenders = make([]func(*cell), len(ds.Columns))
	for c, col := range ds.Columns {
		if col.Name == ds.PartitionBy {
			w.appenders[c] = func(*cell) {}
			continue
		}
		w.appenders[c] = appenderFor(w.builder.Field(field))
		field++
	}
	w.sha = w.builder.Field(field).(*array.StringBuilder)
	w.line = w.builder.Field(field + 1).(*array.Int64Builder)
	w.batch = w.builder.Field(field + 2).(*array.StringBuilder)
	return w, nil
}

// appenderFor returns a function appending a cell to one typed builder, so the per-row loop
// does no type switch.
func appenderFor(b array.Builder) func(*cell) {
	switch b := b.(type) {
	case *array.StringBuilder:
		return func(c *cell) {
			if c.null {
				b.AppendNull()
				return
			}
			b.BinaryBuilder.Append(c.s)
		}
	case *array.Int32Builder:
		return func(c *cell) {
			if c.null {
				b.AppendNull()
				return
			}
			b.Append(int32(c.i))
		}
	case *array.Float64Builder:
		return func(c *cell) {
			if c.null {
				b.AppendNull()
				return
			}
			b.Append(c.f)
		}
	case *array.Decimal128Builder:
		return func(c *cell) {
			if c.null {
				b.AppendNull()
				return
			}
			b.Append(decimal128.FromI64(c.i))
		}
	case *array.Date32Builder:
		return func(c *cell) {
			if c.null {
				b.AppendNull()
				return
			}
			b.Append(arrow.Date32(c.i))
		}
	}
	panic(fmt.Sprintf("ingest: no appender for %T", b))
}

// append adds one accepted row with its lineage.
func (w *partWriter) append(cells []cell, sha []byte, line int64, batchID []byte, batchRows int) error {
	for c := range cells {
		w.appenders[c](&cells[c])
	}
	w.sha.BinaryBuilder.Append(sha)
	w.line.Append(line)
	w.batch.BinaryBuilder.Append(batchID)
	w.rows++
	if w.rows%int64(batchRows) == 0 {
		return w.flush()
	}
	return nil
}

func (w *partWriter) flush() error {
	rec := w.builder.NewRecordBatch()
	defer rec.Release()
	if rec.NumRows() == 0 {
		return nil
	}
	return w.fw.Write(rec)
}

// close writes what is buffered and closes the file.
func (w *partWriter) close() error {
	err := w.flush()
	if cerr := w.fw.Close(); err == nil {
		err = cerr
	}
	w.builder.Release()
	return err
}

// abort closes and deletes the file.
func (w *partWriter) abort() {
	w.fw.Close()
	w.builder.Release()
	os.Remove(w.path)
}
