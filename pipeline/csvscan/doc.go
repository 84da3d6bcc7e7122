// Package csvscan turns the bytes of a departmental return into CSV records, fast enough
// that parsing is never the slow stage and loose enough that a messy file loses nothing.
//
// Its boundary: bytes in, records of byte fields out. It decodes text to UTF-8
// ([NewDecoder]), cuts the text into chunks of whole records that other goroutines can
// parse independently ([Chunker]), and splits a chunk into fields ([RecordIter]). It knows
// nothing of headers, columns, types or datasets: header matching belongs to the ingest,
// value parsing to package coerce. It never trims fields and never drops a record with
// content; a malformed record is returned with its raw text and a [RecordIter.Problem] so the
// caller can reject it and keep the count "rows read = accepted + rejected" honest.
//
// # Dialect
//
// Line ends are LF, CRLF and a lone CR (old Mac exports); each counts as one physical line,
// and line numbers are physical, so a rejected row can be found in an editor.
// A field that starts with a double quote is quoted: it runs to the next quote that is not
// doubled, and may hold delimiters, line ends and "" for a literal quote. A quote anywhere
// else is an ordinary character, so a stray inch mark (`24" monitor`) damages one record
// rather than swallowing the rest of the file; the record is still flagged so the department
// hears about it. Blank lines (empty or only spaces and tabs) are skipped.
//
// # Parallel parsing
//
// A [Chunker] reads sequentially and only finds record boundaries; the expensive field
// splitting happens in [Chunk.Records] on whichever goroutine owns the chunk. Each chunk
// carries its first physical line number so workers report exact lines without talking to
// each other. Both steps follow the same quoting rule, which is why the Chunker needs the
// delimiter too (set [Chunker.Delim] before the first call to Next).
//
// To read a header and then the data: take the first record of the first chunk as the
// header and skip it when parsing that chunk. [Scanner] is the sequential convenience for
// small files.
package csvscan
