-- severity: error
-- Nothing is lost. For every file the ledger records: rows read = accepted + rejected; every
-- accepted row of an ingested file is in the lake (its raw_* table), and every rejected row is
-- in _rejects. A file whose count does not balance is listed with the three figures.
WITH lake AS (
    SELECT _file_sha256, count(*) AS n FROM raw_projects GROUP BY ALL
    -- raw_spend's lines, as spend_periods sums them (015_spend_periods.sql)
    UNION ALL SELECT _file_sha256, CAST(sum(lines) AS BIGINT) FROM spend_periods GROUP BY ALL
    UNION ALL SELECT _file_sha256, count(*) FROM raw_outcomes GROUP BY ALL
    UNION ALL SELECT _file_sha256, count(*) FROM raw_lessons GROUP BY ALL
    UNION ALL SELECT _file_sha256, count(*) FROM raw_gdp_deflators GROUP BY ALL
),
rejected AS (
    SELECT _file_sha256, count(*) AS n FROM _rejects WHERE line > 0 GROUP BY ALL
)
SELECT f.file_sha256, f.source_path, f.status, f.rows_read, f.rows_accepted, f.rows_rejected,
       coalesce(l.n, 0) AS rows_in_lake, coalesce(r.n, 0) AS rows_in_rejects
FROM _files f
LEFT JOIN lake l ON l._file_sha256 = f.file_sha256
LEFT JOIN rejected r ON r._file_sha256 = f.file_sha256
WHERE f.rows_read <> f.rows_accepted + f.rows_rejected
   OR (f.status = 'ingested' AND coalesce(l.n, 0) <> f.rows_accepted)
   OR (f.status <> 'ingested' AND coalesce(l.n, 0) <> 0)
   OR coalesce(r.n, 0) <> f.rows_rejected
ORDER BY f.source_path
