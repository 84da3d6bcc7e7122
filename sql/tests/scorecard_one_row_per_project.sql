-- severity: error
-- Guards the mart's grain: project_scorecard and scale_up_candidates have exactly one row per
-- registered project (DESIGN.md "Per project"). A project missing from them would vanish from
-- the answer to the Committee; a duplicate would be ranked twice.
WITH registered AS (
    SELECT DISTINCT project_id FROM projects
),
counted AS (
    SELECT r.project_id,
           (SELECT count(*) FROM project_scorecard AS s WHERE s.project_id = r.project_id) AS scorecard_rows,
           (SELECT count(*) FROM scale_up_candidates AS c WHERE c.project_id = r.project_id) AS candidate_rows
    FROM registered AS r
    UNION ALL
    SELECT s.project_id, count(*), NULL
    FROM project_scorecard AS s
    WHERE s.project_id NOT IN (SELECT project_id FROM registered)
    GROUP BY s.project_id
)
SELECT project_id, scorecard_rows, candidate_rows
FROM counted
WHERE scorecard_rows <> 1 OR candidate_rows IS DISTINCT FROM 1
ORDER BY project_id;
