-- severity: warn
-- DESIGN.md "Nothing is lost": a spend, outcome or lesson row whose project is not (yet) in
-- the register is kept, left out of the marts and listed here; it counts as soon as the
-- register names the project. One row per dataset and unknown project_id.
-- Spend as spend_periods sums its current lines (015_spend_periods.sql): n lines a row.
SELECT dataset, project_id, CAST(sum(n) AS BIGINT) AS rows, list(DISTINCT _file_sha256 ORDER BY _file_sha256) AS files
FROM (
    SELECT 'spend' AS dataset, project_id, _file_sha256, lines AS n FROM spend_periods WHERE current
    UNION ALL
    SELECT 'outcomes', project_id, _file_sha256, 1 FROM outcomes
    UNION ALL
    SELECT 'lessons', project_id, _file_sha256, 1 FROM lessons
)
WHERE project_id NOT IN (SELECT project_id FROM projects)
GROUP BY dataset, project_id
ORDER BY dataset, project_id;
