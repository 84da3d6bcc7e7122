package csvscan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names the character encoding of a return. The values are the names a source
// profile uses in config and the ledger records, so they must not change.
type Encoding string

// The encodings a return may arrive in.
const (
	// Auto sniffs a byte order mark; without one, valid UTF-8 passes through and every byte
	// that is not part of a valid UTF-8 sequence is read as Windows-1252. That one rule
	// takes in UTF-8 files, Windows-1252 files and files that mix the two (a £ typed into
	// an otherwise UTF-8 export), without guessing up front.
	Auto Encoding = "auto"
	// UTF8 is UTF-8 with or without a byte order mark. Bytes that are not valid UTF-8
	// become U+FFFD and are counted in [Decoder.Invalid].
	UTF8 Encoding = "utf-8"
	// UTF16 is UTF-16 as Excel's "Unicode text" writes it: the byte order mark decides the
	// byte order; without one, little-endian.
	UTF16 Encoding = "utf-16"
	// Windows1252 is the Windows "ANSI" code page of UK desktops: £ is byte 0xA3 and € 0x80.
	Windows1252 Encoding = "windows-1252"
)

// ParseEncoding reads an encoding name from config. It accepts the canonical names, common
// aliases (utf8, cp1252, latin1 and the like, which browsers also read as Windows-1252) in
// any case, and "" for Auto.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "utf-8", "utf8", "utf-8-sig":
		return UTF8, nil
	case "utf-16", "utf16", "utf-16le", "ucs-2", "unicode":
		return UTF16, nil
	case "windows-1252", "windows1252", "cp1252", "win-1252", "ansi", "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		return Windows1252, nil
	}
	return "", fmt.Errorf("csvscan: unknown encoding %q (use auto, utf-8, utf-16 or windows-1252)", s)
}

// decodeBufSize is the Decoder's read size: big enough that the per-Read bookkeeping
// vanishes next to the copy, small enough to stay in cache.
const decodeBufSize = 64 << 10

// sniffBytes is how much of the input the UTF-16 heuristic looks at.
const sniffBytes = 1024

type decodeMode uint8

const (
	modeAuto   decodeMode = iota // valid UTF-8 kept, other bytes read as Windows-1252
	modeUTF8                     // valid UTF-8 kept, other bytes become U+FFFD
	modeCP1252                   // every byte read as Windows-1252
)

// cp1252 holds the UTF-8 form of the bytes 0x80-0xFF in Windows-1252, taken from
// x/text's charmap so the Auto fallback and the explicit encoding agree byte for byte
// (its five undefined bytes become U+FFFD).
var cp1252 = func() (t [128]struct {
	b [3]byte
	n uint8
}) {
	for i := range t {
		r := charmap.Windows1252.DecodeByte(byte(0x80 + i))
		t[i].n = uint8(utf8.EncodeRune(t[i].b[:], r))
	}
	return t
}()

var replacement = [3]byte{0xEF, 0xBF, 0xBD} // U+FFFD in UTF-8

// Decoder reads a return's bytes and yields UTF-8 text. Build one with [NewDecoder].
type Decoder struct {
	src      io.Reader
	mode     decodeMode
	utf16    io.Reader // set when the input is UTF-16; it then does all the work
	in       []byte    // raw input, unread part is in[r:w]
	r, w     int
	eof      bool
	err      error // read error from src, returned once the buffered input is used up
	pend     [4]byte
	pendN    int // bytes of one decoded character waiting in pend[pendOff:pendN]
	pendOff  int
	detected Encoding
	invalid  int64
}

// NewDecoder returns a reader of r's text as UTF-8. enc says how r is encoded; "" means
// Auto. A UTF-8 byte order mark is removed; a UTF-16 one chooses the byte order.
//
// NewDecoder reads the start of r straight away, to look for a byte order mark and a first
// sight of the encoding, so a read error can surface here.
//
// Whatever the input, the output is valid UTF-8. In Auto mode without a byte order mark
// the decoder also recognises UTF-16 without one, by the zero bytes every ASCII character
// leaves in it.
func NewDecoder(r io.Reader, enc Encoding) (*Decoder, error) {
	d := &Decoder{src: r, in: make([]byte, decodeBufSize)}
	switch enc {
	case "", Auto:
		d.mode, d.detected = modeAuto, UTF8
	case UTF8:
		d.mode, d.detected = modeUTF8, UTF8
	case UTF16:
		d.detected = UTF16
	case Windows1252:
		d.mode, d.detected = modeCP1252, Windows1252
	default:
		return nil, fmt.Errorf("csvscan: unknown encoding %q (use auto, utf-8, utf-16 or windows-1252)", string(enc))
	}
	// Fill the whole buffer once: the BOM needs 3 bytes, the UTF-16 heuristic a few
	// hundred, and a first look at 64 KiB lets Detected say Windows-1252 before the caller
	// has read anything, which is when the ingest records it for most files.
	for d.w < len(d.in) && !d.eof && d.err == nil {
		d.fill()
	}
	if d.err != nil {
		return nil, fmt.Errorf("csvscan: reading the start of the file: %w", d.err)
	}
	head := d.in[:d.w]

	// A byte order mark outweighs the encoding a profile names: a department that re-saves
	// its usual Windows-1252 return as "CSV UTF-8" from Excel gets a BOM, and reading those
	// bytes as Windows-1252 would turn every £ into Â£.
	utf8BOM := bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	utf16BOM := bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF})
	if d.mode == modeCP1252 && (utf8BOM || utf16BOM) {
		d.mode, d.detected = modeAuto, UTF8
	}
	switch {
	case enc == UTF16:
		d.startUTF16(unicode.UTF16(unicode.LittleEndian, unicode.UseBOM))
		return d, nil
	case d.mode == modeCP1252:
		return d, nil
	case utf8BOM:
		d.r = 3
	case d.mode == modeAuto && utf16BOM:
		d.detected = UTF16
		d.startUTF16(unicode.UTF16(unicode.LittleEndian, unicode.UseBOM))
		return d, nil
	case d.mode == modeAuto:
		if order, ok := sniffUTF16(head); ok {
			d.detected = UTF16
			d.startUTF16(unicode.UTF16(order, unicode.IgnoreBOM))
			return d, nil
		}
	}
	if d.mode == modeAuto && !validUTF8Prefix(d.in[d.r:d.w], d.eof) {
		d.detected = Windows1252
	}
	return d, nil
}

func (d *Decoder) startUTF16(e encoding.Encoding) {
	rest := io.MultiReader(bytes.NewReader(d.in[d.r:d.w]), d.srcAfterFill())
	d.utf16 = transform.NewReader(rest, e.NewDecoder())
}

// srcAfterFill is what remains of the source once the buffered bytes are used: nothing at
// end of file, the source otherwise.
func (d *Decoder) srcAfterFill() io.Reader {
	if d.eof {
		return eofReader{}
	}
	return d.src
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// sniffUTF16 spots UTF-16 without a byte order mark: text that is mostly ASCII has a zero
// in every other byte, which neither UTF-8 nor Windows-1252 text ever has.
func sniffUTF16(head []byte) (unicode.Endianness, bool) {
	n := min(len(head), sniffBytes) &^ 1
	if n < 4 {
		return unicode.LittleEndian, false
	}
	var evenZero, oddZero int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			evenZero++
		}
		if head[i+1] == 0 {
			oddZero++
		}
	}
	pairs := n / 2
	switch {
	case evenZero == 0 && oddZero*2 >= pairs:
		return unicode.LittleEndian, true
	case oddZero == 0 && evenZero*2 >= pairs:
		return unicode.BigEndian, true
	}
	return unicode.LittleEndian, false
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing a character cut off at the end
// when more input follows.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	if !atEOF {
		b = b[:completeRunes(b)]
	}
	return utf8.Valid(b)
}

// completeRunes returns len(b) less any incomplete multi-byte character at its end.
func completeRunes(b []byte) int {
	for k := 1; k <= utf8.UTFMax-1 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < utf8.RuneSelf {
			return len(b)
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[len(b)-k:]) {
				return len(b)
			}
			return len(b) - k
		}
	}
	return len(b)
}

// Detected reports the encoding the decoder is reading: the one given, or for Auto, UTF16
// or UTF8 by the byte order mark, and otherwise UTF8 until a byte had to be read as
// Windows-1252 and Windows1252 from then on. The first 64 KiB are checked by NewDecoder, so
// the answer is settled early for most files; it is final once Read has returned io.EOF.
func (d *Decoder) Detected() Encoding { return d.detected }

// Invalid reports how many input bytes so far were not valid UTF-8 and were read as
// Windows-1252 (Auto) or replaced by U+FFFD (UTF8). It is zero for the other encodings.
func (d *Decoder) Invalid() int64 { return d.invalid }

// fill reads more input into d.in, moving the unread part to the front first.
func (d *Decoder) fill() {
	if d.r > 0 {
		d.w = copy(d.in, d.in[d.r:d.w])
		d.r = 0
	}
	d.w += d.readSource(d.in[d.w:])
}

// readSource reads into p from the source, trying again while it returns nothing, and
// returns how many bytes it read. It sets d.eof at the end of the input, and d.err on a
// read error or, after 100 empty reads, io.ErrNoProgress.
func (d *Decoder) readSource(p []byte) int {
	for tries := 0; tries < 100; tries++ {
		n, err := d.src.Read(p)
		if err == io.EOF {
			d.eof = true
			return n
		}
		if err != nil {
			d.err = err
			return n
		}
		if n > 0 {
			return n
		}
	}
	d.err = io.ErrNoProgress
	return 0
}

// Read implements io.Reader.
func (d *Decoder) Read(p []byte) (int, error) {
	if d.utf16 != nil {
		return d.utf16.Read(p)
	}
	// The fast path, while the input has been clean UTF-8 (after a first invalid byte the
	// general path takes the rest).
	if d.mode != modeCP1252 && d.invalid == 0 && d.r == d.w && d.pendOff == d.pendN && !d.eof && d.err == nil && len(p) >= len(d.in) {
		if n := d.readDirect(p[:len(d.in)]); n > 0 {
			return n, nil
		}
	}
	n := 0
	for n < len(p) {
		if d.pendOff < d.pendN {
			c := copy(p[n:], d.pend[d.pendOff:d.pendN])
			d.pendOff += c
			n += c
			continue
		}
		if d.r == d.w {
			if n > 0 {
				break // hand over what we have rather than block on the source
			}
			if d.eof {
				return 0, io.EOF
			}
			if d.err != nil {
				return 0, d.err
			}
			d.fill()
			continue
		}
		c, needMore := d.decode(p[n:])
		n += c
		if needMore {
			if n > 0 {
				break
			}
			if d.err != nil {
				return 0, d.err
			}
			d.fill()
		}
	}
	return n, nil
}

// readDirect is Read's fast path for the body of a UTF-8 file, which is nearly all the
// bytes of nearly every return: it reads from the source straight into dst, which must be
// no longer than d.in, and when the bytes read are valid UTF-8 it hands them over as they
// are, without the copy through d.in. A character cut off by the end of the read, and
// everything read when some of it is not valid UTF-8, is moved into d.in for the general
// path to decode; readDirect then returns how many bytes of dst it kept, perhaps 0.
func (d *Decoder) readDirect(dst []byte) int {
	n := d.readSource(dst)
	keep := n
	if !d.eof {
		keep -= cutRune(dst[:n])
	}
	if !utf8.Valid(dst[:keep]) {
		keep = 0
	}
	d.r, d.w = 0, copy(d.in, dst[keep:n])
	return keep
}

// cutRune returns how many bytes at the end of b are the start of a UTF-8 character whose
// remaining bytes are not in b: 0 to 3.
func cutRune(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < utf8.RuneSelf {
			return 0
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[len(b)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}

// decode writes into dst as much decoded text as fits from d.in[d.r:d.w]. needMore is true
// when the unread input ends in part of a character and more input must be read first.
func (d *Decoder) decode(dst []byte) (n int, needMore bool) {
	for n < len(dst) && d.r < d.w {
		src := d.in[d.r:d.w]
		limit := min(len(src), len(dst)-n)

		// Find the longest run that passes through unchanged. This loop is the fast path,
		// the whole of most files: ASCII is skipped eight bytes at a time, valid UTF-8
		// one character at a time, and the run is then copied in one go.
		i := 0
		stop := stopEnd
		for i < limit {
			for i+8 <= limit && binary.LittleEndian.Uint64(src[i:])&0x8080808080808080 == 0 {
				i += 8
			}
			if i >= limit {
				break
			}
			if src[i] < utf8.RuneSelf {
				i++
				continue
			}
			if d.mode != modeCP1252 {
				r, size := utf8.DecodeRune(src[i:])
				if r != utf8.RuneError || size > 1 {
					if i+size > limit {
						stop = stopNoRoom
						break
					}
					i += size
					continue
				}
				if !d.eof && d.err == nil && !utf8.FullRune(src[i:]) {
					stop = stopNeedMore // cut off by the end of the buffer
					break
				}
			}
			stop = stopSingle
			break
		}
		copy(dst[n:], src[:i])
		d.r += i
		n += i

		var enc []byte
		switch stop {
		case stopEnd:
			continue
		case stopNeedMore:
			return n, true
		case stopNoRoom:
			if n > 0 {
				return n, false
			}
			// Not even one character fits (a tiny dst): stage it and hand over what fits.
			_, size := utf8.DecodeRune(src[i:])
			enc = src[i : i+size]
			d.r += size
		case stopSingle:
			enc = d.decodeByte(src[i])
			d.r++
		}
		c := copy(dst[n:], enc)
		n += c
		if c < len(enc) {
			d.pendN = copy(d.pend[:], enc[c:])
			d.pendOff = 0
			return n, false
		}
	}
	return n, false
}

// Why decode stopped scanning a run.
const (
	stopEnd      = iota // input or room used up
	stopNeedMore        // a character is cut off by the end of the buffer
	stopNoRoom          // the next character does not fit in dst
	stopSingle          // the next byte must be decoded on its own
)

// decodeByte decodes one byte that is not part of valid UTF-8 (or any byte of a
// Windows-1252 file above 0x7F).
func (d *Decoder) decodeByte(c byte) []byte {
	switch d.mode {
	case modeUTF8:
		d.invalid++
		return replacement[:]
	case modeAuto:
		d.detected = Windows1252
		d.invalid++
	}
	e := &cp1252[c-0x80]
	return e.b[:e.n]
}
