-- spend_periods, brought up to date in an incremental build (the model is
-- models/015_spend_periods.sql). 011 has just added the new files' lines and moved the
-- lines they supersede; every line added or moved has the (project, department, financial
-- year, period, budget type) of a new file's line, so only those groups change: they are
-- summed again from the lines, and every other group keeps its row. The test incremental
-- build = full build (pipeline/batch) holds the two forms to the same rows.
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT DISTINCT project_id, department, financial_year, period, budget_type
FROM spend_lines
WHERE _file_sha256 IN (SELECT file_sha256 FROM _new_files);

DELETE FROM spend_periods AS p
USING _touched AS t
WHERE p.project_id = t.project_id
  AND p.department = t.department
  AND p.financial_year = t.financial_year
  AND p.period = t.period
  AND p.budget_type = t.budget_type;

INSERT INTO spend_periods BY NAME
SELECT
    project_id, department, financial_year, period, budget_type, _file_sha256, _arrival, current,
    count(*) AS lines,
    sum(actual_gbp) AS actual_gbp,
    sum(planned_gbp) AS planned_gbp,
    count(planned_gbp) AS planned_lines,
    sum(actual_gbp) FILTER (WHERE planned_gbp IS NOT NULL) AS planned_lines_actual_gbp
FROM (
    SELECT project_id, department, financial_year, period, budget_type, _file_sha256, _arrival,
           actual_gbp, planned_gbp, true AS current
    FROM spend_lines
    UNION ALL
    SELECT project_id, department, financial_year, period, budget_type, _file_sha256, _arrival,
           actual_gbp, planned_gbp, false AS current
    FROM spend_superseded
) AS s
SEMI JOIN _touched AS t USING (project_id, department, financial_year, period, budget_type)
GROUP BY ALL;

DROP TABLE _touched;
