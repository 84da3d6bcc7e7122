package textutil_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
	"github.com/evaluation-taskforce/sofpipe/pipeline/textutil"
)

func TestToUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"inbox/spend/dfe-2023-24.csv", "inbox/spend/dfe-2023-24.csv"},
		{"inbox/spend/dfe-\xA3-2023-24.csv", "inbox/spend/dfe-£-2023-24.csv"},
		{"inbox/spend/dfe-£-2023-24.csv", "inbox/spend/dfe-£-2023-24.csv"}, // already UTF-8: kept
		{"\x80 \x96 \xE9t\xE9", "€ – été"},
		{"caf\xC3\xA9 \xA3", "café £"}, // a name that mixes the two
		{"\xE2\x82", "â\u201a"},        // a UTF-8 sequence cut short is two Windows-1252 bytes
		{"", ""},
	}
	for _, tc := range tests {
		got := textutil.ToUTF8(tc.in)
		if got != tc.want {
			t.Errorf("ToUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("ToUTF8(%q) = %q is not valid UTF-8", tc.in, got)
		}
	}
}

// TestToUTF8AgreesWithTheDecoder holds a name to the rule a file's bytes are read by, byte
// for byte over every byte that is not ASCII, so a name and the text of its file read alike.
func TestToUTF8AgreesWithTheDecoder(t *testing.T) {
	for b := 0x80; b <= 0xFF; b++ {
		in := "a" + string([]byte{byte(b)}) + "z"
		dec, err := csvscan.NewDecoder(strings.NewReader(in), csvscan.Auto)
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(dec)
		if err != nil {
			t.Fatal(err)
		}
		if got := textutil.ToUTF8(in); got != string(want) {
			t.Errorf("byte %02X: ToUTF8 gives %q, the Auto decoder %q", b, got, want)
		}
	}
}

// TestToUTF8IsStableUnderJSON: a name made valid here is what the ledger's JSON keeps (JSON
// would otherwise replace the byte by U+FFFD), so ledger and lake show the same name.
func TestToUTF8IsStableUnderJSON(t *testing.T) {
	name := textutil.ToUTF8("inbox/spend/dfe-\xA3-2023-24.csv")
	b, err := json.Marshal(name)
	if err != nil {
		t.Fatal(err)
	}
	var back string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != name {
		t.Errorf("JSON round trip turned %q into %q", name, back)
	}
}

func TestToUTF8DoesNotCopyValidText(t *testing.T) {
	s := strings.Repeat("inbox/spend/dfe-2023-24.csv", 4)
	if n := testing.AllocsPerRun(100, func() { _ = textutil.ToUTF8(s) }); n != 0 {
		t.Errorf("ToUTF8 of valid text allocates %v times, want 0", n)
	}
}
