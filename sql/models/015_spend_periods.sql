-- spend_periods: the spend lines summed by project, department, financial year, period,
-- budget type and file, for the current lines (current = true: spend_lines) and the
-- superseded ones (false) apart. The models and data tests that need only these sums
-- (020, 040, 070, and the tests on periods, deflators, unregistered projects and the
-- ledger) read these few rows, not the millions of lines: an incremental build adds to
-- them what its new lines bring and moves what the lines they supersede held
-- (sql/incremental), so a night with one small file never sums every line again.
--
-- The sums are exact DECIMALs (a line's DECIMAL(18,2) summed as DECIMAL(38,2), see
-- 020_spend_monthly.sql), so summing them again gives what summing the lines would.
-- planned_lines counts the lines with a plan and planned_lines_actual_gbp sums their
-- actual (DESIGN.md "Delivery"); planned_gbp and planned_lines_actual_gbp are NULL when
-- no line of the group has a plan. _arrival is the file's (for first arrivals).
CREATE OR REPLACE TABLE spend_periods AS
SELECT
    project_id, department, financial_year, period, budget_type, _file_sha256, _arrival, current,
    count(*) AS lines,
    sum(actual_gbp) AS actual_gbp,
    sum(planned_gbp) AS planned_gbp,
    count(planned_gbp) AS planned_lines,
    sum(actual_gbp) FILTER (WHERE planned_gbp IS NOT NULL) AS planned_lines_actual_gbp
FROM spend_versions
GROUP BY ALL;
