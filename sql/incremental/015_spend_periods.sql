-- spend_periods, brought up to date in an incremental build (the model is
-- models/015_spend_periods.sql). 011 has just added the new files' lines (_new_spend) and
-- flagged the lines they supersede (_superseded). The sums are exact DECIMALs and counts,
-- so each changed row is the row it was plus what changed:
--   a superseded line of an older file leaves its (group, file) row with current true
--     (subtracted there) and joins the row with current false (added there);
--   a new line is added to its (group, file) row, current unless 011 flagged it.
-- A row left with no lines goes; planned_gbp and planned_lines_actual_gbp are NULL when no
-- line of the row has a plan, as the model leaves them. Only the changed rows are read and
-- written, never the lines again. The test incremental build = full build (pipeline/batch)
-- holds the two forms to the same rows, and the data tests spend_monthly_reconciles and
-- ledger_rows_accounted hold every build's sums to the lines and the ledger.
CREATE OR REPLACE TEMP TABLE _period_changes AS
SELECT
    project_id, department, financial_year, period, budget_type, _file_sha256, _arrival, current,
    CAST(sum(n) AS BIGINT) AS lines,
    sum(CASE WHEN n > 0 THEN actual_gbp ELSE -actual_gbp END) AS actual_gbp,
    sum(CASE WHEN n > 0 THEN planned_gbp ELSE -planned_gbp END) AS planned_gbp,
    CAST(sum(n) FILTER (WHERE planned_gbp IS NOT NULL) AS BIGINT) AS planned_lines,
    sum(CASE WHEN n > 0 THEN actual_gbp ELSE -actual_gbp END) FILTER (WHERE planned_gbp IS NOT NULL) AS planned_lines_actual_gbp
FROM (
    SELECT project_id, department, financial_year, period, budget_type, _file_sha256, _arrival,
           true AS current, -1 AS n, actual_gbp, planned_gbp
    FROM _superseded
    WHERE _file_sha256 NOT IN (SELECT file_sha256 FROM _new_files)
    UNION ALL
    SELECT project_id, department, financial_year, period, budget_type, _file_sha256, _arrival,
           false AS current, 1 AS n, actual_gbp, planned_gbp
    FROM _superseded
    WHERE _file_sha256 NOT IN (SELECT file_sha256 FROM _new_files)
    UNION ALL
    SELECT project_id, department, financial_year, period, budget_type, _file_sha256, _arrival,
           _row NOT IN (SELECT _row FROM _superseded) AS current, 1 AS n, actual_gbp, planned_gbp
    FROM _new_spend
)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE _periods_changed AS
SELECT
    project_id, department, financial_year, period, budget_type, _file_sha256, _arrival, current,
    CAST(sum(lines) AS BIGINT) AS lines,
    sum(actual_gbp) AS actual_gbp,
    sum(planned_gbp) AS planned_gbp,
    CAST(coalesce(sum(planned_lines), 0) AS BIGINT) AS planned_lines,
    sum(planned_lines_actual_gbp) AS planned_lines_actual_gbp
FROM (
    SELECT p.project_id, p.department, p.financial_year, p.period, p.budget_type, p._file_sha256,
           p._arrival, p.current, p.lines, p.actual_gbp, p.planned_gbp, p.planned_lines,
           p.planned_lines_actual_gbp
    FROM spend_periods AS p
    SEMI JOIN _period_changes AS c
        USING (project_id, department, financial_year, period, budget_type, _file_sha256, current)
    UNION ALL
    SELECT project_id, department, financial_year, period, budget_type, _file_sha256, _arrival,
           current, lines, actual_gbp, planned_gbp, planned_lines, planned_lines_actual_gbp
    FROM _period_changes
)
GROUP BY ALL;

DELETE FROM spend_periods AS p
USING _period_changes AS c
WHERE p.project_id = c.project_id
  AND p.department = c.department
  AND p.financial_year = c.financial_year
  AND p.period = c.period
  AND p.budget_type = c.budget_type
  AND p._file_sha256 = c._file_sha256
  AND p.current = c.current;

INSERT INTO spend_periods BY NAME
SELECT
    project_id, department, financial_year, period, budget_type, _file_sha256, _arrival, current,
    lines,
    actual_gbp,
    CASE WHEN planned_lines > 0 THEN planned_gbp END AS planned_gbp,
    planned_lines,
    CASE WHEN planned_lines > 0 THEN planned_lines_actual_gbp END AS planned_lines_actual_gbp
FROM _periods_changed
WHERE lines > 0;

DROP TABLE _period_changes;
DROP TABLE _periods_changed;
