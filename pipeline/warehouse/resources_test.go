package warehouse

import (
	"context"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
)

func TestApplyResources(t *testing.T) {
	ctx := context.Background()
	db, err := Open("", false) // in memory
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var before string
	if err := db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&before); err != nil {
		t.Fatal(err)
	}
	if err := ApplyResources(ctx, db, config.Warehouse{}); err != nil {
		t.Fatal(err)
	}
	var limit string
	var threads int
	if err := db.QueryRowContext(ctx, "SELECT current_setting('memory_limit'), current_setting('threads')").Scan(&limit, &threads); err != nil {
		t.Fatal(err)
	}
	if limit != before {
		t.Errorf("empty memory_limit changed DuckDB's default %s to %s", before, limit)
	}
	if err := ApplyResources(ctx, db, config.Warehouse{MemoryLimit: "256MB", Threads: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT current_setting('memory_limit'), current_setting('threads')").Scan(&limit, &threads); err != nil {
		t.Fatal(err)
	}
	// DuckDB reports the limit in binary units: 256MB = 244.1 MiB.
	if limit != "244.1 MiB" || threads != 1 {
		t.Errorf("after ApplyResources: memory_limit %q, threads %d; want 244.1 MiB, 1", limit, threads)
	}
	if err := ApplyResources(ctx, db, config.Warehouse{MemoryLimit: "lots"}); err == nil {
		t.Error("ApplyResources accepted memory_limit \"lots\"")
	}
}
