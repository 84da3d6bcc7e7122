-- spend_lines, brought up to date in a copy of the last published warehouse (an incremental
-- build: pipeline/warehouse). _new_files lists the files delivered since that build, whose
-- lines spend_lines has just gained (the build loads them there, as a full build loads
-- all); every one of them arrived after every file before.
--
-- The rule is 011 of models/ (and of 010_projects.sql): for each natural key, the lines of
-- the latest file that carries it. A key no new file carries keeps the lines it had. A key
-- a new file carries now belongs to the latest new file carrying it, since the new files
-- arrived last: its older lines, and those of earlier new files, move to spend_superseded,
-- where a full build would have put them. Only the new files' keys are looked up; the test
-- incremental build = full build (pipeline/batch) holds the two forms to the same rows.
BEGIN TRANSACTION;

CREATE OR REPLACE TEMP TABLE _new_spend AS
SELECT rowid AS _row, project_id, department, financial_year, period, budget_type, line_ref, _arrival, _file_sha256
FROM spend_lines
WHERE _file_sha256 IN (SELECT file_sha256 FROM _new_files);

CREATE OR REPLACE TEMP TABLE _superseded AS
SELECT s.rowid AS _row
FROM spend_lines AS s
JOIN (
    SELECT DISTINCT project_id, department, financial_year, period, budget_type, line_ref
    FROM _new_spend
) AS k
  ON s.project_id = k.project_id
 AND s.department = k.department
 AND s.financial_year = k.financial_year
 AND s.period = k.period
 AND s.budget_type = k.budget_type
 AND s.line_ref IS NOT DISTINCT FROM k.line_ref
WHERE s._file_sha256 NOT IN (SELECT file_sha256 FROM _new_files)
UNION ALL
SELECT _row
FROM _new_spend
QUALIFY dense_rank() OVER (
    PARTITION BY project_id, department, financial_year, period, budget_type, line_ref
    ORDER BY _arrival DESC, _file_sha256 DESC
) > 1;

INSERT INTO spend_superseded
SELECT * FROM spend_lines WHERE rowid IN (SELECT _row FROM _superseded);

DELETE FROM spend_lines WHERE rowid IN (SELECT _row FROM _superseded);

DROP TABLE _new_spend;
DROP TABLE _superseded;

COMMIT;
