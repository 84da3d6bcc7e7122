-- spend_monthly, brought up to date in an incremental build (the model is
-- models/020_spend_monthly.sql). Its rows are spend_periods' current rows summed by
-- (project, department, financial year, period, budget type), so only the groups with a
-- line added or flagged by 011 (_new_spend, _superseded) change: they are summed again
-- from spend_periods, as the model sums them, and every other row stays. in_register can
-- change for any project when a new register arrives: it is set again where it differs.
--
-- The rows gained go at the end, so the table is not in the model's order: nothing reads
-- it in order (the report groups it; query it with ORDER BY). The test incremental build =
-- full build (pipeline/batch) holds the two forms to the same rows, and the data test
-- spend_monthly_reconciles holds every build's table to spend_lines.
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT DISTINCT project_id, department, financial_year, period, budget_type
FROM (
    SELECT project_id, department, financial_year, period, budget_type FROM _new_spend
    UNION ALL
    SELECT project_id, department, financial_year, period, budget_type FROM _superseded
);

DELETE FROM spend_monthly AS m
USING _touched AS t
WHERE m.project_id = t.project_id
  AND m.department = t.department
  AND m.financial_year = t.financial_year
  AND m.period = t.period
  AND m.budget_type = t.budget_type;

INSERT INTO spend_monthly BY NAME
SELECT
    s.project_id,
    s.department,
    s.financial_year,
    s.period,
    s.budget_type,
    make_date(
        CAST(left(s.financial_year, 4) AS INTEGER) + CASE WHEN s.period >= 10 THEN 1 ELSE 0 END,
        (s.period + 2) % 12 + 1,
        1
    ) AS month,
    CAST(sum(s.planned_gbp) AS DECIMAL(38, 2)) AS planned_gbp,
    CAST(sum(s.actual_gbp) AS DECIMAL(38, 2)) AS actual_gbp,
    CAST(sum(s.lines) AS BIGINT) AS lines,
    s.project_id IN (SELECT project_id FROM projects) AS in_register
FROM spend_periods AS s
SEMI JOIN _touched AS t USING (project_id, department, financial_year, period, budget_type)
WHERE s.current
GROUP BY s.project_id, s.department, s.financial_year, s.period, s.budget_type
ORDER BY s.project_id, s.department, s.financial_year, s.period, s.budget_type;

UPDATE spend_monthly
SET in_register = NOT in_register
WHERE in_register <> (project_id IN (SELECT project_id FROM projects));

DROP TABLE _touched;
DROP TABLE _new_spend;
DROP TABLE _superseded;
