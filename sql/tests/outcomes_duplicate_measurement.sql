-- severity: warn
-- The latest file for an outcome measurement (project_id, outcome_id, period_end) carried it
-- more than once. Restatement keeps both rows (all rows of the latest file count); benefit_gbp
-- sums over both, while attainment uses the row on the later source line. Usually a
-- duplicated line in a return: worth a look.
SELECT project_id, outcome_id, period_end, count(*) AS rows, list(_source_line ORDER BY _source_line) AS source_lines,
       any_value(_file_sha256) AS file_sha256
FROM outcomes
GROUP BY project_id, outcome_id, period_end
HAVING count(*) > 1
ORDER BY project_id, outcome_id, period_end;
