-- severity: warn
-- A project's spend for one department, period and budget type now comes from more than one
-- file. That is right when a later file added lines, but it double counts when a department
-- resent a period with line_ref filled in where the first return left it empty (the keys
-- differ, so the correction does not supersede the original). Worth a look.
--
-- Read from spend_periods, the current lines already summed by file (one row per file of
-- a group): the same figures as count(DISTINCT _file_sha256) over the lines, without
-- keeping a set of files per group (1 s at 5M lines).
--
-- The groups are first told apart by one 64-bit hash of their key, which groups faster
-- than five columns of text: a group with more than one row has them under one hash, so
-- only those hashes need the grouping by the key itself (which a hash shared by chance
-- does not fool).
WITH several AS (
    SELECT hash(project_id, department, financial_year, period, budget_type) AS key_hash
    FROM spend_periods
    WHERE current
    GROUP BY key_hash
    HAVING count(*) > 1
)
SELECT project_id, department, financial_year, period, budget_type,
       count(*) AS files, CAST(sum(lines) AS BIGINT) AS lines, sum(actual_gbp) AS actual_gbp
FROM spend_periods
WHERE current
  AND hash(project_id, department, financial_year, period, budget_type) IN (SELECT key_hash FROM several)
GROUP BY project_id, department, financial_year, period, budget_type
HAVING count(*) > 1
ORDER BY project_id, department, financial_year, period, budget_type;
