package ingest

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
)

// FuzzHeaderSearch feeds the header search any text: it must not panic, must find the
// same header however the text is cut into chunks, and what it reports must hold (a
// header on a real line, at most twenty lines passed over, a reason when there is none).
func FuzzHeaderSearch(f *testing.F) {
	for _, s := range []string{
		"project_id,department,payment_date,budget_type,actual_gbp\nSOF-1,DfE,03/05/2024,RDEL,1\n",
		"\"Spend over £25,000 - Publication template\",,,\n,,,\nDepartment family,Entity,Date,Amount\nDEFRA,X,01/02/2011,5\n",
		"Jul-10,,,\r,,Transaction ,\rDepartment family,Entity,Date paid,number,Amount\r",
		"title\n\"unclosed,\nDepartment,Date,Amount\n",
		"a,b\n,Nil Return\n",
		"Department,Date,Net Amount,Gross Amount\n",
		"",
		",,,,\n\n  \n",
	} {
		f.Add([]byte(s), uint8(7))
	}
	ds, _ := contract.Lookup(contract.Spend)
	profile := &config.Profile{Name: "p", Dataset: "spend", Defaults: map[string]string{"project_id": "U", "budget_type": "RDEL"},
		HeaderAliases: map[string]string{"Entity": ""},
		HeaderPatterns: []config.HeaderPattern{{Match: "*amount*", Column: "actual_gbp"}, {Match: "*date*", Column: "payment_date", Fallback: true},
			{Match: "*department*", Column: "department"}, {Match: "*entity*", Column: "department", Fallback: true}}}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		if bytes.IndexByte(data, 0) >= 0 {
			return // NUL bytes reject the file before the search (binary_file)
		}
		whole, wholeErr, done := searchHeader(csvscan.Chunk{Data: data, StartLine: 1}, ',', ds, profile, false)
		if !done {
			t.Fatal("the search did not end on the whole text")
		}
		ch := csvscan.NewChunker(bytes.NewReader(data), int(chunk)+1)
		first, err := ch.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			return // a record longer than the chunker allows: rejected before the search
		}
		cut, cutErr, err := findHeader(ch, &first, ',', ds, profile)
		if err != nil {
			return
		}
		if (wholeErr == nil) != (cutErr == nil) || whole.line != cut.line || whole.records != cut.records {
			t.Fatalf("whole text: line %d (%d records) %v; in chunks of %d: line %d (%d records) %v", whole.line, whole.records, wholeErr, int(chunk)+1, cut.line, cut.records, cutErr)
		}
		if wholeErr != nil {
			if wholeErr.Reason == "" || wholeErr.Message == "" {
				t.Fatalf("a file with no header has no reason: %+v", wholeErr)
			}
			return
		}
		if whole.line < 1 || whole.records < 1 || len(whole.skipped) >= HeaderSearchLines || whole.lay == nil {
			t.Fatalf("header %+v", whole)
		}
	})
}
