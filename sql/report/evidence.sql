-- Projects by their best qualifying SMS level (0: no qualifying impact result), every
-- level listed.
SELECT l.level, count(s.project_id)
FROM range(0, 6) AS l(level)
LEFT JOIN project_scorecard AS s ON coalesce(s.evidence_sms, 0) = l.level
GROUP BY l.level
ORDER BY l.level
