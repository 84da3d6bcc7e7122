-- The files this warehouse is the first published to hold (taken in by this batch, or by
-- batches since the last publish that published nothing), and whether each restates rows
-- an earlier file had sent (a correction): the same spend month of a department, the same
-- outcome measurement, the same project or lesson.
WITH
this_batch AS (
    SELECT * FROM _files WHERE batch_id IN (SELECT batch_id FROM since_last)
),
corrects AS (
    -- An earlier line of the month exists when the month's first arrival is earlier: joined
    -- to each month's first arrival, not to its every line (a month holds thousands of
    -- lines, and the join of them all took 8 s and 1 GB on a 5M-line first night). The
    -- lines are read as spend_periods sums them (every version: raw_spend's months).
    SELECT DISTINCT a._file_sha256
    FROM spend_periods AS a
    JOIN (
        SELECT project_id, department, financial_year, period, min(_arrival) AS first_arrival
        FROM spend_periods
        GROUP BY ALL
    ) AS o USING (project_id, department, financial_year, period)
    WHERE a._file_sha256 IN (SELECT file_sha256 FROM this_batch) AND o.first_arrival < a._arrival
    UNION
    SELECT DISTINCT a._file_sha256
    FROM raw_outcomes AS a
    JOIN raw_outcomes AS o USING (project_id, outcome_id, period_end)
    WHERE a._file_sha256 IN (SELECT file_sha256 FROM this_batch) AND o._arrival < a._arrival
    UNION
    SELECT DISTINCT a._file_sha256
    FROM raw_projects AS a
    JOIN raw_projects AS o USING (project_id)
    WHERE a._file_sha256 IN (SELECT file_sha256 FROM this_batch) AND o._arrival < a._arrival
    UNION
    SELECT DISTINCT a._file_sha256
    FROM raw_lessons AS a
    JOIN raw_lessons AS o USING (project_id, lesson_id)
    WHERE a._file_sha256 IN (SELECT file_sha256 FROM this_batch) AND o._arrival < a._arrival
)
SELECT f.source_path, f.dataset, f.status, coalesce(f.rows_accepted, 0), coalesce(f.rows_rejected, 0),
       coalesce(f.reason, ''), c._file_sha256 IS NOT NULL AS corrects
FROM this_batch AS f
LEFT JOIN corrects AS c ON c._file_sha256 = f.file_sha256
ORDER BY f.dataset, f.arrival, f.source_path
