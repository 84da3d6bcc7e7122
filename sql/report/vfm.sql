-- Value for money against score, one point per project (bcr NULL: no cost to divide by).
SELECT project_id, band, score, bcr
FROM project_scorecard
ORDER BY project_id
