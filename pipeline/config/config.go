// Package config is sofpipe's configuration as data: the Config struct, its defaults, its
// validation and loading from a JSON file. Every constant of the marts lives here with the
// default DESIGN.md gives it, so a reviewer can see and override each one.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
)

// Defaults that are not mart constants.
const (
	DefaultWorkspace       = "workspace"
	DefaultKeepWarehouses  = 7
	DefaultBatchRows       = 65536
	DefaultChunkBytes      = 4 << 20
	DefaultRejectRateLimit = 0.5
	// DefaultWarehouseMemoryLimit bounds DuckDB while it builds the warehouse. DuckDB's own
	// default is 80% of the machine's RAM, and it uses it: 2.2 GB for a 5M-row spend lake.
	// DuckDB holds about 50 MB beyond its limit (readers, compression, allocator) and the
	// process its code (75 MB) and Go heap besides, so with 96MB a whole sofpipe run, ingest
	// included, stays within 256 MiB from 1M to 20M spend rows (128MB reached 260-280 MiB):
	// the build writes each spend line once and sorts none, and what needs more spills to a
	// folder beside the build file. See bench/results/README.md.
	DefaultWarehouseMemoryLimit = "96MB"
	// MinWarehouseMemoryLimit is the smallest memory_limit accepted: below it a build fails
	// with DuckDB out-of-memory errors rather than spilling.
	MinWarehouseMemoryLimit = 64_000_000
	// DefaultMaxAmountGBP is the largest amount, in pounds either side of zero, one line may
	// hold in a money column: £100bn. A card or reference number pasted into an amount
	// (sixteen digits, about 10^15) is ten thousand times larger, while the largest real
	// lines in departments' published spend returns, the Department of Health's monthly
	// cash funding of NHS England (£3.4bn and £5.0bn lines in one real return), are well
	// inside it (a lower default such as £1bn would reject them). SOF lines themselves are
	// far smaller: the whole fund is £600m. The marts sum in DECIMAL(38,2), which no set of
	// lines within the lake's DECIMAL(18,2) can overflow.
	DefaultMaxAmountGBP = 100_000_000_000
	// MaxAmountGBPLimit is the largest max_amount_gbp accepted: what the lake's
	// DECIMAL(18,2) holds, 16 digits of pounds. Set to it, the maximum is the lake's own
	// (pence included) and restricts nothing more.
	MaxAmountGBPLimit = 9_999_999_999_999_999
	// DefaultReturnsDueDay: a month's spend return is due on the 20th of the next month
	// (DESIGN.md "Reports and operational marts").
	DefaultReturnsDueDay = 20
)

// Config is everything a batch needs to know besides its inputs.
type Config struct {
	// Workspace is the folder that holds inbox/, lake/, warehouse/, exports/ and state/.
	Workspace string `json:"workspace"`
	// KeepWarehouses is how many previously published warehouse files are kept for rollback.
	KeepWarehouses int `json:"keep_warehouses"`

	Ingest    Ingest    `json:"ingest"`
	Warehouse Warehouse `json:"warehouse"`
	Marts     Marts     `json:"marts"`
	Export    Export    `json:"export"`
	Profiles  []Profile `json:"profiles"`
	// Serve configures `sofpipe serve` (serve.go).
	Serve Serve `json:"serve"`
}

// Ingest tunes the CSV to Parquet stage.
type Ingest struct {
	// Workers is how many goroutines parse and encode in parallel; 0 means one per CPU.
	Workers int `json:"workers"`
	// BatchRows is the number of rows per Arrow record batch and so per Parquet row group.
	BatchRows int `json:"batch_rows"`
	// ChunkBytes is how much CSV text one worker parses at a time.
	ChunkBytes int `json:"chunk_bytes"`
	// RejectRateLimit quarantines a whole file when more than this share of its rows is
	// rejected: a file that bad is more likely the wrong layout than a few bad lines.
	RejectRateLimit float64 `json:"reject_rate_limit"`
	// MinFileAgeSeconds leaves a file for the next batch while it was modified less than
	// this many seconds ago: a file still being uploaded is not read half-written. 0 reads
	// every file (uploads then go under a hidden name and are renamed when complete).
	MinFileAgeSeconds int `json:"min_file_age_seconds"`
	// MaxAmountGBP is the largest amount, in whole pounds either side of zero, that one
	// line may hold in a money column (planned_gbp, actual_gbp, benefit_gbp,
	// allocation_gbp). A larger one is rejected as out_of_range, naming the column, the
	// value and this maximum, instead of reaching the marts' sums.
	MaxAmountGBP int64 `json:"max_amount_gbp"`
}

// Warehouse bounds the resources DuckDB uses to build the warehouse file. The settings
// change how fast and in how much memory a build runs, never what it holds.
type Warehouse struct {
	// MemoryLimit is DuckDB's memory_limit while building, for example "512MB", "1GB" or
	// "2GiB" (KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024). Work that
	// does not fit spills to a temporary folder beside the build file. Empty means
	// DuckDB's own default, 80% of the machine's RAM.
	MemoryLimit string `json:"memory_limit"`
	// Threads is DuckDB's worker threads while building; 0 means DuckDB's default, one per
	// CPU core.
	Threads int `json:"threads"`
}

// memoryUnits are the memory_limit units accepted, in bytes.
var memoryUnits = map[string]float64{
	"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

var memoryLimitPattern = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$`)

// ParseMemoryLimit returns the bytes a memory_limit such as "512MB" or "1.5GiB" stands for.
func ParseMemoryLimit(s string) (int64, error) {
	m := memoryLimitPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a number followed by a unit such as MB or GiB", s)
	}
	unit, ok := memoryUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q: unit %q is not one of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB", s, m[2])
	}
	var n float64
	fmt.Sscanf(m[1], "%g", &n)
	return int64(n * unit), nil
}

// Marts holds every constant of the scale_up_candidates and lessons_learned formulas.
// The JSON names are also the column names of the warehouse's _params table.
type Marts struct {
	BaseYear string  `json:"base_year"`
	Discount float64 `json:"discount_rate"`
	// AsOfFinancialYear and AsOfPeriod pin the as-of month; empty and 0 mean the latest
	// (financial_year, period) present in spend.
	AsOfFinancialYear string `json:"as_of_financial_year"`
	AsOfPeriod        int    `json:"as_of_period"`

	WeightEvidence    float64 `json:"weight_evidence"`
	WeightValue       float64 `json:"weight_value"`
	WeightAttainment  float64 `json:"weight_attainment"`
	WeightConsistency float64 `json:"weight_consistency"`
	WeightDelivery    float64 `json:"weight_delivery"`
	WeightJoinup      float64 `json:"weight_joinup"`

	// SMSScores[i] is the evidence score of a best qualifying result at SMS level i+1.
	SMSScores []float64 `json:"sms_scores"`
	// VFMThresholds are the bcr lower bounds of value-for-money bands 2..5; VFMScores the
	// score of each band, from "below the first threshold" up.
	VFMThresholds []float64 `json:"vfm_thresholds"`
	VFMScores     []float64 `json:"vfm_scores"`

	AttainmentCap             float64 `json:"attainment_cap"`
	ConsistencyThreshold      float64 `json:"consistency_threshold"`
	VarianceTolerance         float64 `json:"variance_tolerance"`
	VarianceSlope             float64 `json:"variance_slope"`
	JoinupMaxExtraDepartments int     `json:"joinup_max_extra_departments"`
	ReturnsRedBelow           float64 `json:"returns_red_below"`

	GateMinSMS     int     `json:"gate_min_sms"`
	GateMinBCR     float64 `json:"gate_min_bcr"`
	BandScaleUpMin float64 `json:"band_scale_up_min"`
	BandExtendMin  float64 `json:"band_extend_min"`

	// ReturnsDueDay is the day of the following month by which a department's monthly
	// spend return is due (returns_status measures days_late from it; the report's chase
	// list ranks by it). DefaultReturnsDueDay unless set.
	ReturnsDueDay int `json:"returns_due_day"`
}

// Export configures the summary files under exports/.
type Export struct {
	// SuppressBelow drops lessons_learned rows that describe fewer than this many projects
	// (statistical disclosure control); 0 turns suppression off.
	SuppressBelow int `json:"suppress_below"`
}

// Profile maps one source's own layout onto a dataset's canonical columns.
type Profile struct {
	Name string `json:"name"`
	// Description says, for the people who maintain the config, whose files the profile
	// reads and why it maps them as it does. JSON has no comments; this is the place.
	Description string `json:"description,omitempty"`
	// Dataset is the canonical dataset the source's files belong to.
	Dataset string `json:"dataset"`
	// Pattern is a path.Match pattern on the file's path relative to the inbox, for example
	// "moj/*.csv". A file matching no profile takes its dataset from its first folder.
	Pattern string `json:"pattern"`
	// Encoding is "auto" (default), "utf-8", "utf-16" or "windows-1252".
	Encoding string `json:"encoding"`
	// Delimiter is one character; default ",".
	Delimiter string `json:"delimiter"`
	// DateFormat is a Go time layout used strictly for every date column; empty means the
	// UK forms sofpipe recognises on its own.
	DateFormat string `json:"date_format"`
	// HeaderAliases maps a source header (matched ignoring case, spaces and punctuation) to
	// a canonical column name. An alias to "" ignores the header on purpose, even when its
	// name happens to be a canonical column's; ignored headers are recorded in the ledger.
	HeaderAliases map[string]string `json:"header_aliases"`
	// Constants give canonical columns a fixed value for every row of the file, whatever
	// the file holds (for example the department of a whole return).
	Constants map[string]string `json:"constants"`
	// Defaults fill a canonical column where the file lacks it or leaves a cell empty (for
	// example budget_type RDEL for a department that reports resource spend only).
	Defaults map[string]string `json:"defaults"`
	// PadShortRows reads a row with fewer fields than the header as if the missing fields
	// at its end were empty, for exports that drop a row's trailing empty cells. Without it
	// such a row is rejected as ragged_row. A row with more fields than the header is
	// rejected either way, unless the extra fields are empty.
	PadShortRows bool `json:"pad_short_rows,omitempty"`
	// HeaderPatterns map headers by pattern where HeaderAliases has no entry for them, so a
	// source whose exports spell a header many ways (AP Amount, Amount In Sterling,
	// SumOfAmount) needs one rule, not a list that the next month outgrows. See
	// HeaderPattern for how a header and a column are matched.
	HeaderPatterns []HeaderPattern `json:"header_patterns,omitempty"`
	// HeaderNotes say, per source header, why it maps as it does and how sure whoever wrote
	// the mapping was (profile suggest writes them). They change nothing: JSON has no
	// comments, and a mapping deserves its reason beside it.
	HeaderNotes map[string]string `json:"header_notes,omitempty"`
	// ExcelSerialDates reads a whole number in a date column (41058) as an Excel 1900-system
	// day number, as a spreadsheet saves a date cell that lost its format, when it falls in
	// the years dates may have (1990-2100). Off, such a value is a bad_date reject.
	ExcelSerialDates bool `json:"excel_serial_dates,omitempty"`
	// RoundMoneyToPence rounds amounts with digits past the pence (12.345) to the penny,
	// half away from zero, instead of rejecting them as money_precision; the rounded values
	// are counted in the ledger (_files.money_rounded).
	RoundMoneyToPence bool `json:"round_money_to_pence,omitempty"`
}

// HeaderPattern maps every header whose normalised form (lower case, each run of other
// characters than letters and digits one underscore: "AP Amount " is "ap_amount") matches
// Match, a path.Match pattern such as "*amount*", to Column ("" ignores the header on
// purpose). A header takes the first pattern in the list that it matches, and only when no
// exact name (HeaderAliases, or the column's own name) maps it. Exact names win over
// patterns, and a Fallback pattern is used only when no header maps to its column by an
// exact name or another pattern (the entity of a return that has no department column).
// Two headers mapped to one column at the same rank reject the file (duplicate_column).
type HeaderPattern struct {
	Match    string `json:"match"`
	Column   string `json:"column"`
	Fallback bool   `json:"fallback,omitempty"`
	// Description says why, for whoever maintains the config.
	Description string `json:"description,omitempty"`
}

// ProfileFor returns the first profile whose pattern matches rel, a path relative to the
// inbox with forward slashes, or nil.
func (c *Config) ProfileFor(rel string) *Profile {
	for i := range c.Profiles {
		if ok, _ := path.Match(c.Profiles[i].Pattern, rel); ok {
			return &c.Profiles[i]
		}
	}
	return nil
}

// ProfileNamed returns the profile called name, or nil.
func (c *Config) ProfileNamed(name string) *Profile {
	for i := range c.Profiles {
		if c.Profiles[i].Name == name {
			return &c.Profiles[i]
		}
	}
	return nil
}

// DefaultMarts returns the constants DESIGN.md gives, from HM Treasury's Green Book
// (3.5% discounting, real terms by GDP deflators), the Maryland Scientific Methods Scale
// and DfT value-for-money bands.
func DefaultMarts() Marts {
	return Marts{
		BaseYear:                  "2023-24",
		Discount:                  0.035,
		WeightEvidence:            0.30,
		WeightValue:               0.25,
		WeightAttainment:          0.20,
		WeightConsistency:         0.10,
		WeightDelivery:            0.10,
		WeightJoinup:              0.05,
		SMSScores:                 []float64{0, 25, 60, 85, 100},
		VFMThresholds:             []float64{1, 1.5, 2, 4},
		VFMScores:                 []float64{0, 25, 50, 80, 100},
		AttainmentCap:             1.5,
		ConsistencyThreshold:      0.8,
		VarianceTolerance:         0.10,
		VarianceSlope:             0.50,
		JoinupMaxExtraDepartments: 4,
		ReturnsRedBelow:           0.75,
		GateMinSMS:                3,
		GateMinBCR:                1.0,
		BandScaleUpMin:            70,
		BandExtendMin:             50,
		ReturnsDueDay:             DefaultReturnsDueDay,
	}
}

// DefaultConfig returns a configuration that runs as DESIGN.md describes.
func DefaultConfig() Config {
	return Config{
		Workspace:      DefaultWorkspace,
		KeepWarehouses: DefaultKeepWarehouses,
		Ingest: Ingest{
			BatchRows:       DefaultBatchRows,
			ChunkBytes:      DefaultChunkBytes,
			RejectRateLimit: DefaultRejectRateLimit,
			MaxAmountGBP:    DefaultMaxAmountGBP,
		},
		Warehouse: Warehouse{MemoryLimit: DefaultWarehouseMemoryLimit},
		Marts:     DefaultMarts(),
		Serve:     DefaultServe(),
	}
}

// Load reads a JSON config file over the defaults: fields the file leaves out keep their
// default. Unknown fields are an error, so a misspelt constant cannot be silently ignored.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return DefaultConfig(), fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse reads a config from JSON, named name in its errors: what Load does once it has
// read the file.
func Parse(name string, b []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("config: %s: %w", name, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config: %s: %w", name, err)
	}
	return cfg, nil
}

var financialYearPattern = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// ValidFinancialYear reports whether fy is written like "2023-24" with consecutive years.
func ValidFinancialYear(fy string) bool {
	m := financialYearPattern.FindStringSubmatch(fy)
	if m == nil {
		return false
	}
	var start, end int
	fmt.Sscanf(m[1], "%d", &start)
	fmt.Sscanf(m[2], "%d", &end)
	return (start+1)%100 == end
}

// Validate checks every field and names the first one that is wrong.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.Workspace) == "" {
		bad("workspace", "must not be empty")
	}
	if c.KeepWarehouses < 0 {
		bad("keep_warehouses", "must be 0 or more, got %d", c.KeepWarehouses)
	}
	if c.Ingest.Workers < 0 {
		bad("ingest.workers", "must be 0 (one per CPU) or more, got %d", c.Ingest.Workers)
	}
	if c.Ingest.BatchRows < 1 {
		bad("ingest.batch_rows", "must be at least 1, got %d", c.Ingest.BatchRows)
	}
	if c.Ingest.ChunkBytes < 1024 {
		bad("ingest.chunk_bytes", "must be at least 1024, got %d", c.Ingest.ChunkBytes)
	}
	if c.Ingest.RejectRateLimit <= 0 || c.Ingest.RejectRateLimit > 1 {
		bad("ingest.reject_rate_limit", "must be in (0, 1], got %g", c.Ingest.RejectRateLimit)
	}
	if c.Ingest.MinFileAgeSeconds < 0 {
		bad("ingest.min_file_age_seconds", "must be 0 or more, got %d", c.Ingest.MinFileAgeSeconds)
	}
	if c.Ingest.MaxAmountGBP < 1 || c.Ingest.MaxAmountGBP > MaxAmountGBPLimit {
		bad("ingest.max_amount_gbp", "must be whole pounds from 1 to %d (what DECIMAL(18,2) holds), got %d", int64(MaxAmountGBPLimit), c.Ingest.MaxAmountGBP)
	}
	if c.Warehouse.MemoryLimit != "" {
		if n, err := ParseMemoryLimit(c.Warehouse.MemoryLimit); err != nil {
			bad("warehouse.memory_limit", "%v", err)
		} else if n < MinWarehouseMemoryLimit {
			bad("warehouse.memory_limit", "must be at least 64MB, got %q", c.Warehouse.MemoryLimit)
		}
	}
	if c.Warehouse.Threads < 0 {
		bad("warehouse.threads", "must be 0 (DuckDB's default, one per CPU) or more, got %d", c.Warehouse.Threads)
	}
	m := &c.Marts
	if !ValidFinancialYear(m.BaseYear) {
		bad("marts.base_year", "must look like 2023-24, got %q", m.BaseYear)
	}
	if m.Discount < 0 || m.Discount >= 1 {
		bad("marts.discount_rate", "must be in [0, 1), got %g", m.Discount)
	}
	if (m.AsOfFinancialYear == "") != (m.AsOfPeriod == 0) {
		bad("marts.as_of_financial_year", "as_of_financial_year and as_of_period go together")
	} else if m.AsOfFinancialYear != "" {
		if !ValidFinancialYear(m.AsOfFinancialYear) {
			bad("marts.as_of_financial_year", "must look like 2023-24, got %q", m.AsOfFinancialYear)
		}
		if m.AsOfPeriod < 1 || m.AsOfPeriod > 12 {
			bad("marts.as_of_period", "must be 1-12, got %d", m.AsOfPeriod)
		}
	}
	weights := []struct {
		name string
		v    float64
	}{
		{"weight_evidence", m.WeightEvidence}, {"weight_value", m.WeightValue},
		{"weight_attainment", m.WeightAttainment}, {"weight_consistency", m.WeightConsistency},
		{"weight_delivery", m.WeightDelivery}, {"weight_joinup", m.WeightJoinup},
	}
	sum := 0.0
	for _, w := range weights {
		if w.v < 0 {
			bad("marts."+w.name, "must not be negative, got %g", w.v)
		}
		sum += w.v
	}
	if sum < 0.999 || sum > 1.001 {
		bad("marts.weight_*", "weights must add up to 1, they add up to %g", sum)
	}
	if len(m.SMSScores) != 5 {
		bad("marts.sms_scores", "needs one score per SMS level 1-5, got %d", len(m.SMSScores))
	}
	if len(m.VFMThresholds) != 4 || len(m.VFMScores) != 5 {
		bad("marts.vfm_thresholds", "needs 4 thresholds and 5 vfm_scores, got %d and %d", len(m.VFMThresholds), len(m.VFMScores))
	} else {
		for i := 1; i < len(m.VFMThresholds); i++ {
			if m.VFMThresholds[i] <= m.VFMThresholds[i-1] {
				bad("marts.vfm_thresholds", "must increase, got %v", m.VFMThresholds)
				break
			}
		}
	}
	if m.AttainmentCap < 1 {
		bad("marts.attainment_cap", "must be at least 1, got %g", m.AttainmentCap)
	}
	if m.ConsistencyThreshold <= 0 || m.ConsistencyThreshold > m.AttainmentCap {
		bad("marts.consistency_threshold", "must be in (0, attainment_cap], got %g", m.ConsistencyThreshold)
	}
	if m.VarianceTolerance < 0 || m.VarianceSlope <= 0 {
		bad("marts.variance_slope", "variance_tolerance must be ≥ 0 and variance_slope > 0")
	}
	if m.JoinupMaxExtraDepartments < 1 {
		bad("marts.joinup_max_extra_departments", "must be at least 1, got %d", m.JoinupMaxExtraDepartments)
	}
	if m.ReturnsRedBelow < 0 || m.ReturnsRedBelow > 1 {
		bad("marts.returns_red_below", "must be in [0, 1], got %g", m.ReturnsRedBelow)
	}
	if m.GateMinSMS < 1 || m.GateMinSMS > 5 {
		bad("marts.gate_min_sms", "must be 1-5, got %d", m.GateMinSMS)
	}
	if m.BandExtendMin > m.BandScaleUpMin {
		bad("marts.band_extend_min", "must not exceed band_scale_up_min")
	}
	if m.ReturnsDueDay < 1 || m.ReturnsDueDay > 28 {
		bad("marts.returns_due_day", "must be a day 1-28 (every month has it), got %d", m.ReturnsDueDay)
	}
	if c.Export.SuppressBelow < 0 {
		bad("export.suppress_below", "must be 0 (off) or more, got %d", c.Export.SuppressBelow)
	}
	errs = append(errs, c.Serve.validate()...)
	for i := range c.Profiles {
		if err := c.Profiles[i].validate(); err != nil {
			errs = append(errs, fmt.Errorf("profiles[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (p *Profile) validate() error {
	if p.Name == "" {
		return errors.New("name: must not be empty")
	}
	ds, ok := contract.Lookup(p.Dataset)
	if !ok {
		return fmt.Errorf("%s: dataset: unknown dataset %q (one of %s)", p.Name, p.Dataset, strings.Join(contract.Names(), ", "))
	}
	if p.Pattern == "" {
		return fmt.Errorf("%s: pattern: must not be empty", p.Name)
	}
	if _, err := filepath.Match(p.Pattern, ""); err != nil {
		return fmt.Errorf("%s: pattern: %w", p.Name, err)
	}
	if _, err := csvscan.ParseEncoding(p.Encoding); err != nil {
		return fmt.Errorf("%s: encoding: %w", p.Name, err)
	}
	if p.Delimiter != "" && len(p.Delimiter) != 1 {
		return fmt.Errorf("%s: delimiter: must be one character, got %q", p.Name, p.Delimiter)
	}
	for alias, col := range p.HeaderAliases {
		if col != "" && ds.Column(col) < 0 {
			return fmt.Errorf("%s: header_aliases[%q]: %q is not a column of %s", p.Name, alias, col, p.Dataset)
		}
	}
	for i, hp := range p.HeaderPatterns {
		if hp.Match == "" {
			return fmt.Errorf("%s: header_patterns[%d].match: must not be empty", p.Name, i)
		}
		if _, err := path.Match(hp.Match, ""); err != nil {
			return fmt.Errorf("%s: header_patterns[%d].match: %q: %w", p.Name, i, hp.Match, err)
		}
		if hp.Column != "" && ds.Column(hp.Column) < 0 {
			return fmt.Errorf("%s: header_patterns[%d].column: %q is not a column of %s", p.Name, i, hp.Column, p.Dataset)
		}
	}
	for col := range p.Constants {
		if ds.Column(col) < 0 {
			return fmt.Errorf("%s: constants[%q]: not a column of %s", p.Name, col, p.Dataset)
		}
	}
	for col := range p.Defaults {
		if ds.Column(col) < 0 {
			return fmt.Errorf("%s: defaults[%q]: not a column of %s", p.Name, col, p.Dataset)
		}
		if _, both := p.Constants[col]; both {
			return fmt.Errorf("%s: defaults[%q]: the column also has a constant", p.Name, col)
		}
	}
	return nil
}
