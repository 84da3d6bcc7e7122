-- spend_lines: every spend line as it stands now (the restatement rule of 010_projects.sql).
--
-- Natural key (contract): project_id, department, financial_year, period, budget_type,
-- line_ref. line_ref is optional, so a return usually carries several lines with the same
-- key (one per payment): all lines of the latest file for the key count, and a department's
-- corrected return replaces the whole set of lines it had sent for that key, even when it
-- now has fewer lines (DESIGN.md "Idempotent and restatement-aware").
CREATE OR REPLACE TABLE spend_lines AS
SELECT *
FROM raw_spend
QUALIFY dense_rank() OVER (
    PARTITION BY project_id, department, financial_year, period, budget_type, line_ref
    ORDER BY _arrival DESC, _file_sha256 DESC
) = 1
ORDER BY project_id, department, financial_year, period, budget_type, line_ref NULLS FIRST,
         _arrival, _source_line;
