-- severity: warn
-- The latest file for an outcome measurement (project_id, outcome_id, period_end) carried it
-- more than once. The outcomes model keeps only the row on the later source line (so its
-- benefit is counted once); the earlier rows are in raw_outcomes. Usually a duplicated line
-- in a return: worth a look.
WITH latest AS (
    SELECT *
    FROM raw_outcomes
    QUALIFY dense_rank() OVER (
        PARTITION BY project_id, outcome_id, period_end
        ORDER BY _arrival DESC, _file_sha256 DESC
    ) = 1
)
SELECT project_id, outcome_id, period_end, count(*) AS rows, list(_source_line ORDER BY _source_line) AS source_lines,
       any_value(_file_sha256) AS file_sha256
FROM latest
GROUP BY project_id, outcome_id, period_end
HAVING count(*) > 1
ORDER BY project_id, outcome_id, period_end;
