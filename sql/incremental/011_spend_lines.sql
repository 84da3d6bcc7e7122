-- spend_lines, brought up to date in a copy of the last published warehouse (an incremental
-- build: pipeline/warehouse). _new_files lists the files delivered since that build, whose
-- lines spend_versions has just gained with current true (the build loads them there, as a
-- full build loads all); every one of them arrived after every file before.
--
-- The rule is 011 of models/ (and of 010_projects.sql): for each natural key, the lines of
-- the latest file that carries it. A key no new file carries keeps the lines it had. A key
-- a new file carries now belongs to the latest new file carrying it, since the new files
-- arrived last: its older current lines, and those of earlier new files, are flagged
-- superseded (current false), as a full build would flag them. Only the new files' keys
-- are looked up; the test incremental build = full build (pipeline/batch) holds the two
-- forms to the same rows.
--
-- The two temporary tables it leaves are what changed, for the incremental forms of 015
-- and 020, which drop them: _new_spend, the new files' lines, and _superseded, every line
-- this build flagged (old or new), each with its key, file and amounts.
BEGIN TRANSACTION;

CREATE OR REPLACE TEMP TABLE _new_spend AS
SELECT rowid AS _row, project_id, department, financial_year, period, budget_type, line_ref,
       _arrival, _file_sha256, actual_gbp, planned_gbp
FROM spend_versions
WHERE _file_sha256 IN (SELECT file_sha256 FROM _new_files);

-- The keys the new files carry whose (project, department, financial year, period, budget
-- type) holds a current line of an older file (spend_periods, as the last build left it):
-- only those can supersede an old line. A night whose files bring months not seen before
-- has none, and the millions of lines are not read.
CREATE OR REPLACE TEMP TABLE _contested_keys AS
SELECT DISTINCT n.project_id, n.department, n.financial_year, n.period, n.budget_type, n.line_ref
FROM _new_spend AS n
SEMI JOIN (
    SELECT project_id, department, financial_year, period, budget_type
    FROM spend_periods
    WHERE current AND _file_sha256 NOT IN (SELECT file_sha256 FROM _new_files)
) AS p USING (project_id, department, financial_year, period, budget_type);

CREATE OR REPLACE TEMP TABLE _superseded AS
SELECT s.rowid AS _row, s.project_id, s.department, s.financial_year, s.period, s.budget_type,
       s._arrival, s._file_sha256, s.actual_gbp, s.planned_gbp
FROM spend_versions AS s
JOIN _contested_keys AS k
  ON s.project_id = k.project_id
 AND s.department = k.department
 AND s.financial_year = k.financial_year
 AND s.period = k.period
 AND s.budget_type = k.budget_type
 AND s.line_ref IS NOT DISTINCT FROM k.line_ref
-- An older file's line: every new file arrived after every file before (the condition for
-- an incremental build). An arrival is a number, compressed to next to nothing where a row
-- group holds one file's lines; the file's digest, looked up instead, was 64 characters a
-- line to hash (a sixth of this join's time).
WHERE s.current AND s._arrival < (SELECT min(_arrival) FROM _new_spend)
UNION ALL
SELECT _row, project_id, department, financial_year, period, budget_type, _arrival, _file_sha256, actual_gbp, planned_gbp
FROM _new_spend
QUALIFY dense_rank() OVER (
    PARTITION BY project_id, department, financial_year, period, budget_type, line_ref
    ORDER BY _arrival DESC, _file_sha256 DESC
) > 1;

UPDATE spend_versions SET current = false WHERE rowid IN (SELECT _row FROM _superseded);

DROP TABLE _contested_keys;

COMMIT;
