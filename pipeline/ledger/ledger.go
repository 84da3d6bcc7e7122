// Package ledger records what the lake holds and what each batch did, as small JSON files
// written atomically beside the lake. A file's commit record is written only after its
// Parquet files are in place, so the ledger, not the folder listing, says which lake files
// count: files left by a crashed batch are never read, and a rerun writes them again.
package ledger

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
)

// What became of a delivered file: the status of its commit record, or of a delivery.
const (
	StatusIngested    = "ingested"    // read; its accepted rows are in the lake
	StatusRejected    = "rejected"    // could not be read as its dataset at all
	StatusQuarantined = "quarantined" // too many rows rejected: none of its rows are used
	StatusDuplicate   = "duplicate"   // a delivery of bytes already ingested: changes nothing
)

// File is the commit record of one delivered file's bytes.
type File struct {
	SHA256     string `json:"sha256"`
	Dataset    string `json:"dataset"`
	SourcePath string `json:"source_path"` // as first delivered, relative to the inbox
	// SourcePathBytes is the name's own bytes when they are not valid UTF-8 (SourcePath
	// then reads them as Windows-1252); JSON holds them in base64.
	SourcePathBytes []byte    `json:"source_path_bytes,omitempty"`
	Profile         string    `json:"profile,omitempty"`
	Arrival         int64     `json:"arrival"` // order of first delivery; later supersedes earlier
	BatchID         string    `json:"batch_id"`
	ReceivedAt      time.Time `json:"received_at"`
	SizeBytes       int64     `json:"size_bytes"`
	Encoding        string    `json:"encoding,omitempty"`

	RowsRead        int64            `json:"rows_read"`
	RowsAccepted    int64            `json:"rows_accepted"`
	RowsRejected    int64            `json:"rows_rejected"`
	RejectsByReason map[string]int64 `json:"rejects_by_reason,omitempty"`
	Status          string           `json:"status"` // ingested, rejected, quarantined
	Reason          string           `json:"reason,omitempty"`
	Message         string           `json:"message,omitempty"`
	IgnoredColumns  []string         `json:"ignored_columns,omitempty"`
	// HeaderLine is the physical line of the file's header (1 unless title lines sit
	// above it; 0 when none was found), and SkippedLines the text of the non-blank lines
	// above it, which were neither read as rows nor rejected.
	HeaderLine   int      `json:"header_line,omitempty"`
	SkippedLines []string `json:"skipped_lines,omitempty"`
	// MoneyRounded counts the amounts rounded to the penny (the profile's
	// round_money_to_pence).
	MoneyRounded int64 `json:"money_rounded,omitempty"`

	// Outputs are the lake's Parquet files holding this file's accepted rows, relative to
	// the lake root; RejectsFile likewise for its rejects.
	Outputs     []string `json:"outputs,omitempty"`
	RejectsFile string   `json:"rejects_file,omitempty"`
	// LakeFiles holds, for each of Outputs and RejectsFile, what it was when written: its
	// SHA-256, size and rows. Builds read a lake file only while it still has them, and
	// sofpipe verify checks them. Records written before they were kept have none.
	LakeFiles map[string]LakeFile `json:"lake_files,omitempty"`
	// ReadWith is how the file was read (the ingest settings and the source profile, as
	// JSON), so that sofpipe verify --repair can read the original again as it was read
	// the first time.
	ReadWith json.RawMessage `json:"read_with,omitempty"`
	// Damage, when set, says the stored original no longer has the bytes its digest
	// names (found by sofpipe verify); the file's lake rows are kept, and the damaged
	// bytes were moved aside.
	Damage string `json:"damage,omitempty"`
	// Previous are the earlier readings of the same bytes, newest last, that sofpipe
	// reread replaced (each without its own Previous).
	Previous []File `json:"previous,omitempty"`
}

// LakeFile is what one lake file was when it was written.
type LakeFile struct {
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Rows   int64  `json:"rows"`
}

// LakePaths returns the lake files the record counts (its outputs and its rejects file),
// relative to the lake root.
func (f File) LakePaths() []string {
	paths := append([]string(nil), f.Outputs...)
	if f.RejectsFile != "" {
		paths = append(paths, f.RejectsFile)
	}
	return paths
}

// Delivery is one arrival of a file in the inbox, including redeliveries of known bytes.
type Delivery struct {
	SHA256     string `json:"sha256"`
	SourcePath string `json:"source_path"`
	// SourcePathBytes: as in File.
	SourcePathBytes []byte    `json:"source_path_bytes,omitempty"`
	ReceivedAt      time.Time `json:"received_at"`
	SizeBytes       int64     `json:"size_bytes"`
	// Status is the file's status, or "duplicate" when the bytes were already known.
	Status string `json:"status"`
}

// Run is the record of one batch.
type Run struct {
	BatchID   string    `json:"batch_id"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is zero, and left out of the JSON, while the run has not finished or
	// when it never did (a run recovered after a crash).
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Status: running, published, unchanged, failed, checks_failed, cancelled, abandoned,
	// rolled_back.
	Status     string     `json:"status"`
	Message    string     `json:"message,omitempty"`
	Deliveries []Delivery `json:"deliveries,omitempty"`

	FilesNew         int     `json:"files_new"`
	FilesDuplicate   int     `json:"files_duplicate"`
	FilesRejected    int     `json:"files_rejected"`
	FilesQuarantined int     `json:"files_quarantined"`
	RowsRead         int64   `json:"rows_read"`
	RowsAccepted     int64   `json:"rows_accepted"`
	RowsRejected     int64   `json:"rows_rejected"`
	Fingerprint      string  `json:"fingerprint,omitempty"`
	Warehouse        string  `json:"warehouse,omitempty"`
	IngestSeconds    float64 `json:"ingest_seconds"`
	WarehouseSeconds float64 `json:"warehouse_seconds"`
	ExportSeconds    float64 `json:"export_seconds"`
	ChecksFailed     int     `json:"checks_failed"`
	ChecksWarned     int     `json:"checks_warned"`
	// RollbackTo is, for a run of sofpipe rollback, the batch whose warehouse it puts back:
	// recorded before the swap, so that a rollback stopped part way can be finished.
	RollbackTo string `json:"rollback_to,omitempty"`
	// InboxSkipped counts the inbox entries the batch could not read as deliveries
	// (symbolic links and other non-regular files, unreadable files and folders).
	InboxSkipped int `json:"inbox_skipped,omitempty"`
	// ProgramSHA256 is the SHA-256 of the executable that ran the batch, taken when the
	// process started (a binary replaced on disk later does not change it).
	ProgramSHA256 string `json:"program_sha256,omitempty"`
	// WarehouseBuild is "full" or "incremental" (the published warehouse plus the new
	// files), or empty when the warehouse was not rebuilt.
	WarehouseBuild string `json:"warehouse_build,omitempty"`
}

// Ledger reads and writes the records under two folders.
type Ledger struct {
	filesDir, runsDir string
}

// Open returns the ledger kept in filesDir and runsDir.
func Open(filesDir, runsDir string) *Ledger { return &Ledger{filesDir: filesDir, runsDir: runsDir} }

// Files returns every commit record, in arrival order.
func (l *Ledger) Files() ([]File, error) {
	var out []File
	err := readAll(l.filesDir, func(b []byte, name string) error {
		var f File
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("ledger: %s: %w", name, err)
		}
		out = append(out, f)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Arrival < out[j].Arrival })
	return out, err
}

// Commit records a file. Call it only once the file's outputs are in the lake.
func (l *Ledger) Commit(f File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(l.filesDir, f.SHA256+".json"), append(b, '\n'), 0o644)
}

// Runs returns every run record, oldest first.
func (l *Ledger) Runs() ([]Run, error) {
	var out []Run
	err := readAll(l.runsDir, func(b []byte, name string) error {
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("ledger: %s: %w", name, err)
		}
		out = append(out, r)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return CompareBatchIDs(out[i].BatchID, out[j].BatchID) < 0 })
	return out, err
}

// CompareBatchIDs orders batch ids as the batches were made: by their UTC start second,
// then by the sequence number a second batch in the same second gets ("20261130T125242Z"
// before "…Z-2" before "…Z-10"). As plain text "…Z-10" would sort before "…Z-2", and with a
// suffix such as ".duckdb" "…Z-2.duckdb" before "…Z.duckdb".
func CompareBatchIDs(a, b string) int {
	ab, an := splitBatchID(a)
	bb, bn := splitBatchID(b)
	if c := strings.Compare(ab, bb); c != 0 {
		return c
	}
	return cmp.Compare(an, bn)
}

// splitBatchID splits "20261130T125242Z-2" into its second and its sequence number (1 when
// there is none).
func splitBatchID(id string) (string, int) {
	base, seq, found := strings.Cut(id, "Z-")
	if !found {
		return id, 1
	}
	n, err := strconv.Atoi(seq)
	if err != nil || n < 1 {
		return id, 1
	}
	return base + "Z", n
}

// SaveRun writes a run record (again, as the run progresses).
func (l *Ledger) SaveRun(r Run) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(l.runsDir, r.BatchID+".json"), append(b, '\n'), 0o644)
}

func readAll(dir string, fn func(b []byte, name string) error) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if err := fn(b, e.Name()); err != nil {
			return err
		}
	}
	return nil
}
