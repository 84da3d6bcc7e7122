package ingest

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
)

// HeaderSearchLines is how many non-blank lines from the top of a file may hold its header.
// Spreadsheets put titles above a return's table ("Spend over £25,000 - Publication
// template", the body's name, the month); twenty covers every title block seen in real
// returns with room over, and still stops well before a data row could be mistaken for a
// header.
const HeaderSearchLines = 20

// maxHeaderRecords bounds the records looked at while searching, lines of delimiters
// included (they are blank and do not count towards HeaderSearchLines), so a file of
// empty rows is not read twice over.
const maxHeaderRecords = 1000

// maxSkippedText clips each skipped line kept for the ledger.
const maxSkippedText = 200

// headerFound is where a file's header is and what it says.
type headerFound struct {
	lay *layout
	// line is the header's physical line; records is how many records the parser must
	// pass over to be past it (the header included).
	line, records int
	// skipped holds the text of the non-blank lines above the header.
	skipped []string
}

// searchHeader looks for the header among the first HeaderSearchLines non-blank records of
// chunk: the first whose cells map every required column of the dataset under the
// profile. A line of delimiters or white space is blank and is passed over. done is false
// when the chunk ran out before the search could end and the caller has more of the file
// to give (more); the caller then searches again over a longer chunk. With no header, the
// error names the closest candidate and what it lacked.
func searchHeader(chunk csvscan.Chunk, delim byte, ds *contract.Dataset, profile *config.Profile, more bool) (h headerFound, fe *fileError, done bool) {
	it := chunk.Records(delim)
	var (
		nonBlank, records int
		closest           *fileError
		closestLine       int
		firstProblem      error
		nilReturn         bool
		skipped           []string
	)
	for nonBlank < HeaderSearchLines && records < maxHeaderRecords {
		if !it.Next() {
			if more {
				return h, nil, false
			}
			break
		}
		records++
		fields := it.Fields()
		if blankRow(fields) {
			continue
		}
		nonBlank++
		if p := it.Problem(); p != nil {
			if nonBlank == 1 {
				firstProblem = p
			}
			skipped = append(skipped, clip2(it.Raw()))
			continue
		}
		if nilReturnRow(fields) {
			nilReturn = true
		}
		header := make([]string, len(fields))
		for i, f := range fields {
			header[i] = string(f)
		}
		lay, err := newLayout(ds, header, profile)
		if err == nil {
			return headerFound{lay: lay, line: it.Line(), records: records, skipped: skipped}, nil, true
		}
		e := err.(*fileError)
		if e.Reason != ReasonMissingColumns {
			// The line maps every required column, so it is the header, but it maps
			// one twice: the file is rejected for that, naming both cells.
			return headerFound{line: it.Line()}, e, true
		}
		if closest == nil || len(e.missing) < len(closest.missing) {
			closest, closestLine = e, it.Line()
		}
		skipped = append(skipped, clip2(it.Raw()))
	}
	switch {
	case nonBlank == 0:
		return h, &fileError{Reason: ReasonEmptyFile, Message: "the file has no header row"}, true
	case firstProblem != nil && closest == nil:
		return h, &fileError{Reason: ReasonMalformedCSV, Message: "the header row is not well-formed CSV: " + firstProblem.Error()}, true
	case nilReturn:
		return h, &fileError{Reason: ReasonNilReturn, Message: "the file is a nil return (it says so, and has no header of " + ds.Name + " columns): there are no payments to take in"}, true
	case closest == nil:
		return h, &fileError{Reason: ReasonMissingColumns, Message: "no line near the top of the file is a header: every one is malformed CSV"}, true
	}
	msg := closest.Message
	if nonBlank > 1 {
		msg += fmt.Sprintf(" (line %d, the closest to a header of the first %d non-blank lines searched)", closestLine, nonBlank)
	}
	return h, &fileError{Reason: ReasonMissingColumns, Message: msg, missing: closest.missing}, true
}

// clip2 keeps a skipped line's text for the ledger, clipped (never inside a character).
func clip2(raw []byte) string {
	if len(raw) <= maxSkippedText {
		return string(raw)
	}
	n := maxSkippedText
	for n > 0 && !utf8.RuneStart(raw[n]) {
		n--
	}
	return string(raw[:n]) + "…"
}

// findHeader runs searchHeader over the first chunk, and when the chunk ends before the
// search does (a small chunk size, or title lines longer than a chunk), joins the next
// chunk to it and searches again; *first is then the joined chunk, which the parser reads
// first. err is a read error of the file.
func findHeader(chunker *csvscan.Chunker, first *csvscan.Chunk, delim byte, ds *contract.Dataset, profile *config.Profile) (headerFound, *fileError, error) {
	more := true
	for {
		h, fe, done := searchHeader(*first, delim, ds, profile, more)
		if done {
			return h, fe, nil
		}
		next, err := chunker.Next()
		if errors.Is(err, io.EOF) {
			more = false
			continue
		}
		if err != nil {
			return h, nil, err
		}
		joined := make([]byte, 0, len(first.Data)+len(next.Data))
		joined = append(append(joined, first.Data...), next.Data...)
		chunker.Recycle(next)
		// A chunk made here has no buffer to give back, so Recycle passes it over.
		*first = csvscan.Chunk{Data: joined, StartLine: first.StartLine, Seq: first.Seq}
	}
}
