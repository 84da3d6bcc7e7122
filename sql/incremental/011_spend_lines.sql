-- spend_lines, brought up to date in a copy of the last published warehouse (an incremental
-- build: pipeline/warehouse). _new_files lists the files delivered since that build, whose
-- rows raw_spend has just gained; every one of them arrived after every file before.
--
-- The rule is 011 of models/ (and of 010_projects.sql): for each natural key, the lines of
-- the latest file that carries it. A key no new file carries keeps the lines it had. A key
-- a new file carries now belongs to the latest new file carrying it, since the new files
-- arrived last: its old lines go, and that file's lines come in. Only the new files' lines
-- are read; the test incremental build = full build (pipeline/batch) holds the two forms to
-- the same rows.
CREATE OR REPLACE TEMP TABLE _new_spend AS
SELECT * FROM raw_spend
WHERE _file_sha256 IN (SELECT file_sha256 FROM _new_files);

DELETE FROM spend_lines AS s
USING (
    SELECT DISTINCT project_id, department, financial_year, period, budget_type, line_ref
    FROM _new_spend
) AS k
WHERE s.project_id = k.project_id
  AND s.department = k.department
  AND s.financial_year = k.financial_year
  AND s.period = k.period
  AND s.budget_type = k.budget_type
  AND s.line_ref IS NOT DISTINCT FROM k.line_ref;

INSERT INTO spend_lines BY NAME
SELECT * FROM _new_spend
QUALIFY dense_rank() OVER (
    PARTITION BY project_id, department, financial_year, period, budget_type, line_ref
    ORDER BY _arrival DESC, _file_sha256 DESC
) = 1;

DROP TABLE _new_spend;
