package ingest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// digest is the file's SHA-256 as the writers use it: the lineage column _file_sha256, and
// the names of the files written.
//
// When the caller does not know the digest (sofpipe ingest of a lone file), hashing first
// would read the file twice and hold up the first row group until the hash is done. Instead
// the bytes are hashed as the decoder reads them, and the writers use a provisional digest,
// a random 64-character hex string, until the end of the file; then patchDigest writes the
// real one over it in place and the files are renamed. That is exact because the
// _file_sha256 column is written uncompressed and without statistics (dataProperties): its
// one dictionary value is the only place the provisional digest appears in a file.
type digest struct {
	value string    // the digest the writers use: final, or provisional
	h     hash.Hash // nil when value is final
}

func knownDigest(sum string) *digest { return &digest{value: sum} }

// hashingDigest wraps r so that what is read through it is hashed, and returns a digest
// with a provisional value until finish.
func hashingDigest(r io.Reader) (*digest, io.Reader, error) {
	var nonce [32]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, nil, err
	}
	d := &digest{value: hex.EncodeToString(nonce[:]), h: sha256.New()}
	return d, io.TeeReader(r, d.h), nil
}

// provisional reports whether the writers are using a stand-in for the digest.
func (d *digest) provisional() bool { return d.h != nil }

// finish reads what the decoder left of src (nothing, after a full read) into the hash and
// returns the real digest.
func (d *digest) finish(src io.Reader) (string, error) {
	if d.h == nil {
		return d.value, nil
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return "", err
	}
	return hex.EncodeToString(d.h.Sum(nil)), nil
}

// patchDigest writes sum over every occurrence of provisional in the file at path, in place,
// and syncs it. A file with no occurrence is an error: the stand-in went somewhere else.
func patchDigest(path, provisional, sum string) error {
	if len(provisional) != len(sum) {
		return fmt.Errorf("digest lengths differ: %d and %d", len(provisional), len(sum))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var offsets []int64
	old := []byte(provisional)
	buf := make([]byte, 1<<20)
	var base int64 // file offset of buf[0]
	keep := 0      // bytes carried over from the previous window, so no match is split
	for {
		n, err := f.ReadAt(buf[keep:], base+int64(keep))
		end := keep + n
		for i := 0; ; {
			j := indexFrom(buf[:end], old, i)
			if j < 0 {
				break
			}
			offsets = append(offsets, base+int64(j))
			i = j + len(old)
		}
		if errors.Is(err, io.EOF) || n == 0 {
			break
		}
		if err != nil {
			return err
		}
		keep = min(len(old)-1, end)
		copy(buf, buf[end-keep:end])
		base += int64(end - keep)
	}
	if len(offsets) == 0 {
		return fmt.Errorf("%s: the provisional digest is not in the file", filepath.Base(path))
	}
	for _, off := range offsets {
		if _, err := f.WriteAt([]byte(sum), off); err != nil {
			return err
		}
	}
	return f.Sync()
}

func indexFrom(b, sep []byte, from int) int {
	if from >= len(b) {
		return -1
	}
	i := bytes.Index(b[from:], sep)
	if i < 0 {
		return -1
	}
	return from + i
}
