-- spend_monthly: spend per project, department, financial year, period and budget type, with
-- the calendar month it belongs to (DESIGN.md "Periods": financial year 2023-24 runs
-- 1 April 2023 - 31 March 2024, period 1 = April; so P1-P9 fall in the fy's first calendar
-- year, P10-P12 in the next).
--
-- Every current spend line is here, registered project or not, so that the table reconciles
-- to spend_lines (data test spend_monthly_reconciles); in_register says whether the project
-- is in the register, and the marts use only those that are (DESIGN.md "Nothing is lost").
-- planned_gbp sums the lines that carry a plan and is NULL when none does; actual_gbp is
-- signed (refunds are negative). lines counts the spend lines summed.
--
-- The sums are DECIMAL(38,2), not the lines' DECIMAL(18,2), so that no set of accepted
-- lines can overflow them: a line is below 10^16 pounds (the lake's type; the ingest also
-- bounds it by ingest.max_amount_gbp, default 10^9), and DECIMAL(38,2) holds 10^36 pounds,
-- so a sum would need more than 10^20 lines. A sum that did not fit DECIMAL(18,2) (two
-- lines of £6 and £5 quadrillion) once stopped every build (issue 8, defect 3).
CREATE OR REPLACE TABLE spend_monthly AS
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
FROM spend_periods AS s -- spend_lines summed by file (015_spend_periods.sql)
WHERE s.current
GROUP BY s.project_id, s.department, s.financial_year, s.period, s.budget_type
ORDER BY s.project_id, s.department, s.financial_year, s.period, s.budget_type;
