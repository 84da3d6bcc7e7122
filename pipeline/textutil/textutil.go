// Package textutil makes text that comes from outside sofpipe — file names above all — fit
// to be stored: every string written to Parquet or DuckDB must be valid UTF-8, or DuckDB
// refuses to read the file ("Invalid string encoding found in Parquet file") and one bad
// name blocks every later build.
//
// The rule is the one csvscan's Auto encoding applies to a return's bytes: valid UTF-8 is
// kept as it is and every byte that is not part of valid UTF-8 is read as Windows-1252.
// The names that are not UTF-8 come from the same desktops as the Windows-1252 returns
// (SMB and FTP clients write the ANSI code page's bytes as they are), so "dfe-\xA3.csv"
// shows as "dfe-£.csv", which is what the department typed, where replacing the byte by
// U+FFFD would lose the character for good. A name and the text of its file then read the
// same way. The mapping is not one to one ("£" in UTF-8 and byte A3 both give "£"): a
// caller that must know the exact bytes keeps them beside the name (the ledger does);
// files are identified by their SHA-256, never by their names.
package textutil

import (
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ToUTF8 returns s as valid UTF-8: s itself when it already is (no copy), otherwise s with
// each byte that is not part of a valid UTF-8 sequence decoded as Windows-1252. The five
// bytes Windows-1252 leaves undefined (81, 8D, 8F, 90, 9D) become what x/text's charmap
// gives them, as in csvscan, so a name and a file's text agree byte for byte.
func ToUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+len(s)/2)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			out = utf8.AppendRune(out, charmap.Windows1252.DecodeByte(s[i]))
			i++
			continue
		}
		out = append(out, s[i:i+size]...)
		i += size
	}
	return string(out)
}
