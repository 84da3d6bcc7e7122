package ingest

import (
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// penceType is how the ingest hands an amount to the Parquet writer: the pence as an
// Arrow int64, marked to be written as Parquet's DECIMAL(18,2) on INT64, which is what
// every reader of the lake sees (MoneyType). Passing the amounts as Decimal128 instead
// would make each row group 8 bytes a value bigger, and pqarrow would check every value's
// precision and narrow it back to int64 before writing; coerce.Money has already bounded
// every amount to DECIMAL(18,2).
type penceType struct{ arrow.ExtensionBase }

var pence = &penceType{arrow.ExtensionBase{Storage: arrow.PrimitiveTypes.Int64}}

func (*penceType) ExtensionName() string { return "sofpipe.pence" }
func (*penceType) Serialize() string     { return "" }

func (*penceType) Deserialize(storage arrow.DataType, _ string) (arrow.ExtensionType, error) {
	if storage.ID() != arrow.INT64 {
		return nil, fmt.Errorf("sofpipe.pence: storage type %s, want int64", storage)
	}
	return pence, nil
}

func (*penceType) ExtensionEquals(other arrow.ExtensionType) bool {
	return other.ExtensionName() == pence.ExtensionName()
}

func (*penceType) ArrayType() reflect.Type { return reflect.TypeOf(penceArray{}) }

// ParquetLogicalType makes pqarrow write the column as DECIMAL(18,2).
func (*penceType) ParquetLogicalType() schema.LogicalType {
	return schema.NewDecimalLogicalType(MoneyType.Precision, MoneyType.Scale)
}

// penceArray is an array of penceType.
type penceArray struct{ array.ExtensionArrayBase }

// writeType is the type a lake column of type dt is handed to the Parquet writer as.
func writeType(dt arrow.DataType) arrow.DataType {
	if arrow.TypeEqual(dt, MoneyType) {
		return pence
	}
	return dt
}
