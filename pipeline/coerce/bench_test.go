package coerce

import "testing"

var (
	sinkInt   int64
	sinkDays  int32
	sinkFloat float64
)

func BenchmarkMoney(b *testing.B) {
	inputs := [][]byte{[]byte("-£46,528.00"), []byte("100,685.82"), []byte("150000"), []byte("(1,234.50)")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c, _, _ := Money(inputs[i&3])
		sinkInt += c
		i++
	}
}

func BenchmarkDate(b *testing.B) {
	inputs := [][]byte{[]byte("15/04/2013"), []byte("02-Nov-10"), []byte("2024-03-31"), []byte("03-Jun-2013")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d, _, _ := Date(inputs[i&3], "")
		sinkDays += d
		i++
	}
}

// BenchmarkDateLayout is the explicit-format path, which goes through time.Parse.
func BenchmarkDateLayout(b *testing.B) {
	in := []byte("15/04/2013")
	b.ReportAllocs()
	for b.Loop() {
		d, _, _ := Date(in, "02/01/2006")
		sinkDays += d
	}
}

func BenchmarkInt(b *testing.B) {
	in := []byte(" 1,234 ")
	b.ReportAllocs()
	for b.Loop() {
		n, _, _ := Int(in)
		sinkInt += n
	}
}

func BenchmarkFloat(b *testing.B) {
	in := []byte("1,234.5678")
	b.ReportAllocs()
	for b.Loop() {
		f, _, _ := Float(in)
		sinkFloat += f
	}
}

func BenchmarkFinancialYearOf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		fy, p := FinancialYearOf(19812)
		sinkInt += int64(len(fy) + p)
	}
}
