-- severity: error
-- returns_status is the chase list behind project_scorecard's returns_expected and
-- returns_received: per project, its rows must number the one and its received rows the
-- other, or the chase list and the data-quality gate disagree about who owes what.
SELECT s.project_id, s.returns_expected, s.returns_received,
       coalesce(r.expected, 0) AS rows_in_returns_status,
       coalesce(r.received, 0) AS received_in_returns_status
FROM project_scorecard AS s
LEFT JOIN (
    SELECT project_id, count(*) AS expected, count(*) FILTER (WHERE received) AS received
    FROM returns_status
    GROUP BY project_id
) AS r USING (project_id)
WHERE s.returns_expected <> coalesce(r.expected, 0)
   OR s.returns_received <> coalesce(r.received, 0)
ORDER BY s.project_id
