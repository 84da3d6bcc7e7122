-- spend_department_periods: spend_periods summed again by project, department, financial
-- year and period, the grain the scorecard (040) and the chase list (070) work at, so that
-- both read these rows instead of each grouping spend_periods afresh (an incremental build
-- sums again only the periods its new lines touch: sql/incremental).
--
--   received                  a current line falls in the period (spend_lines)
--   actual_gbp ...            the current lines' sums, as spend_periods has them (NULL
--                             when no current line has a value)
--   planned_lines             current lines with a plan (0 when none)
--   first_file_sha256         the file of any version (raw_spend) that came first, by
--                             (_arrival, _file_sha256): the least of _arrival written as 19
--                             digits followed by the digest sorts as the pair does, and its
--                             characters from the 20th on are that file's digest
--
-- The sums are exact DECIMALs (see 015_spend_periods.sql), so summing them again gives
-- what summing the lines would.
CREATE OR REPLACE TABLE spend_department_periods AS
SELECT
    project_id, department, financial_year, period,
    bool_or(current) AS received,
    sum(actual_gbp) FILTER (WHERE current) AS actual_gbp,
    sum(planned_gbp) FILTER (WHERE current) AS planned_gbp,
    CAST(coalesce(sum(planned_lines) FILTER (WHERE current), 0) AS BIGINT) AS planned_lines,
    sum(planned_lines_actual_gbp) FILTER (WHERE current) AS planned_lines_actual_gbp,
    substr(min(lpad(CAST(_arrival AS VARCHAR), 19, '0') || _file_sha256), 20) AS first_file_sha256
FROM spend_periods
GROUP BY ALL;
