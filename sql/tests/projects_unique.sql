-- severity: error
-- Guards the register's grain (DESIGN.md "Inputs": projects, one row per project_id). After
-- restatement a project can still have two rows if the latest file carrying it listed it
-- twice; every mart would then count that project twice.
SELECT project_id, count(*) AS rows, list(DISTINCT _file_sha256 ORDER BY _file_sha256) AS files
FROM projects
GROUP BY project_id
HAVING count(*) > 1
ORDER BY project_id;
