-- spend_department_periods, brought up to date in an incremental build (the model is
-- models/016_spend_department_periods.sql): only the periods with a line added or flagged
-- by 011 (_new_spend, _superseded) change, and they are summed again from spend_periods as
-- the model sums them; every other row stays. The test incremental build = full build
-- (pipeline/batch) holds the two forms to the same rows.
CREATE OR REPLACE TEMP TABLE _touched_periods AS
SELECT DISTINCT project_id, department, financial_year, period
FROM (
    SELECT project_id, department, financial_year, period FROM _new_spend
    UNION ALL
    SELECT project_id, department, financial_year, period FROM _superseded
);

DELETE FROM spend_department_periods AS d
USING _touched_periods AS t
WHERE d.project_id = t.project_id
  AND d.department = t.department
  AND d.financial_year = t.financial_year
  AND d.period = t.period;

INSERT INTO spend_department_periods BY NAME
SELECT
    project_id, department, financial_year, period,
    bool_or(current) AS received,
    sum(actual_gbp) FILTER (WHERE current) AS actual_gbp,
    sum(planned_gbp) FILTER (WHERE current) AS planned_gbp,
    CAST(coalesce(sum(planned_lines) FILTER (WHERE current), 0) AS BIGINT) AS planned_lines,
    sum(planned_lines_actual_gbp) FILTER (WHERE current) AS planned_lines_actual_gbp,
    substr(min(lpad(CAST(_arrival AS VARCHAR), 19, '0') || _file_sha256), 20) AS first_file_sha256
FROM spend_periods
SEMI JOIN _touched_periods USING (project_id, department, financial_year, period)
GROUP BY ALL;

DROP TABLE _touched_periods;
