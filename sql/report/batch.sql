-- The batch in a sentence: the build record, the run that made the warehouse, the as-of
-- month, the data tests, and the constants the page names (base year, due day).
SELECT
    b.batch_id,
    b.kind,
    b.fingerprint,
    coalesce(r.version, ''),
    CAST(timezone('Europe/London', r.started_at) AS DATE) AS batch_date,
    coalesce(r.files_new, 0), coalesce(r.files_duplicate, 0),
    coalesce(r.files_rejected, 0), coalesce(r.files_quarantined, 0),
    coalesce(r.rows_read, 0), coalesce(r.rows_accepted, 0), coalesce(r.rows_rejected, 0),
    (SELECT min(as_of_financial_year) FROM project_scorecard),
    (SELECT min(as_of_period) FROM project_scorecard),
    (SELECT count(*) FROM project_scorecard),
    (SELECT count(*) FILTER (WHERE status = 'pass') FROM _checks),
    (SELECT count(*) FILTER (WHERE status = 'warn') FROM _checks),
    (SELECT count(*) FILTER (WHERE status = 'fail') FROM _checks),
    p.base_year,
    p.returns_due_day,
    p.band_scale_up_min,
    p.band_extend_min
FROM _build AS b
LEFT JOIN _runs AS r ON r.batch_id = b.batch_id
CROSS JOIN _params AS p
