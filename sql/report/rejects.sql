-- Rejected rows by department and reason, with the first message (by file and line) that
-- tells the department what to fix. A file's department is the one most of its accepted
-- spend lines name; a file with none (rejected whole, or not spend) shows "not known".
WITH file_department AS (
    SELECT _file_sha256, arg_max(department, (n, department)) AS department
    -- raw_spend's lines by file and department, as spend_periods sums them
    FROM (SELECT _file_sha256, department, CAST(sum(lines) AS BIGINT) AS n FROM spend_periods GROUP BY ALL)
    GROUP BY _file_sha256
)
SELECT
    coalesce(fd.department, 'not known') AS department,
    r.reason,
    count(*) AS rows,
    count(DISTINCT r._file_sha256) AS files,
    arg_min(r.message, (r.source_path, r.line)) AS message,
    arg_min(r.source_path || CASE WHEN r.line > 0 THEN ':' || r.line ELSE '' END, (r.source_path, r.line)) AS example
FROM _rejects AS r
LEFT JOIN file_department AS fd USING (_file_sha256)
GROUP BY ALL
ORDER BY department, rows DESC, r.reason
