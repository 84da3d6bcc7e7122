-- The batch in a sentence: the build record, the run that made the warehouse, the files
-- and rows taken in since the last published warehouse, the as-of month, the data tests,
-- and the constants the page names (base year, due day).
WITH
taken AS (
    SELECT sum(files_new) AS files_new, sum(files_duplicate) AS files_duplicate,
           sum(files_rejected) AS files_rejected, sum(files_quarantined) AS files_quarantined,
           sum(rows_read) AS rows_read, sum(rows_accepted) AS rows_accepted, sum(rows_rejected) AS rows_rejected
    FROM since_last
),
-- One row each: as six scalar subqueries in the SELECT, the join order of the query took
-- DuckDB's optimizer 16 ms to settle, for a page made on every night.
scorecard AS (
    SELECT min(as_of_financial_year) AS as_of_financial_year, min(as_of_period) AS as_of_period,
           count(*) AS projects
    FROM project_scorecard
),
checks AS (
    SELECT count(*) FILTER (WHERE status = 'pass') AS passed,
           count(*) FILTER (WHERE status = 'warn') AS warned,
           count(*) FILTER (WHERE status = 'fail') AS failed
    FROM _checks
)
SELECT
    b.batch_id,
    b.kind,
    b.fingerprint,
    coalesce(r.version, ''),
    CAST(timezone('Europe/London', r.started_at) AS DATE) AS batch_date,
    coalesce(t.files_new, 0), coalesce(t.files_duplicate, 0),
    coalesce(t.files_rejected, 0), coalesce(t.files_quarantined, 0),
    coalesce(t.rows_read, 0), coalesce(t.rows_accepted, 0), coalesce(t.rows_rejected, 0),
    s.as_of_financial_year,
    s.as_of_period,
    s.projects,
    c.passed,
    c.warned,
    c.failed,
    p.base_year,
    p.returns_due_day,
    p.band_scale_up_min,
    p.band_extend_min
FROM _build AS b
LEFT JOIN _runs AS r ON r.batch_id = b.batch_id
CROSS JOIN taken AS t
CROSS JOIN scorecard AS s
CROSS JOIN checks AS c
CROSS JOIN _params AS p
