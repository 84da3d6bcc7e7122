-- The files this warehouse is the first published to hold (taken in by this batch, or by
-- batches since the last publish that published nothing), and whether each restates rows
-- an earlier file had sent (a correction): the same spend month of a department, the same
-- outcome measurement, the same project or lesson.
WITH
this_batch AS (
    SELECT * FROM _files WHERE batch_id IN (SELECT batch_id FROM since_last)
),
corrects AS (
    -- An earlier line of the month exists when a row of the month arrived earlier. The
    -- lines are read as spend_periods sums them (every version: raw_spend's months), and
    -- only this batch's rows look for an earlier one (joining every month's lines took 8 s
    -- and 1 GB on a 5M-line first night; summing every month first, a tenth of a second
    -- on a night with one small file).
    SELECT DISTINCT a._file_sha256
    FROM (SELECT * FROM spend_periods WHERE _file_sha256 IN (SELECT file_sha256 FROM this_batch)) AS a
    SEMI JOIN spend_periods AS o
        ON o.project_id = a.project_id AND o.department = a.department
       AND o.financial_year = a.financial_year AND o.period = a.period
       AND o._arrival < a._arrival
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
