-- spend_lines: every spend line as it stands now (the restatement rule of 010_projects.sql).
--
-- Natural key (contract): project_id, department, financial_year, period, budget_type,
-- line_ref. line_ref is optional, so a return usually carries several lines with the same
-- key (one per payment): all lines of the latest file for the key count, and a department's
-- corrected return replaces the whole set of lines it had sent for that key, even when it
-- now has fewer lines (DESIGN.md "Idempotent and restatement-aware").
--
-- The build loads every spend line of the lake once, into spend_versions with current
-- true (pipeline/warehouse loadDataset); this model sets current false on the lines a later
-- file superseded. spend_lines is the view of the lines that stand (current), raw_spend the
-- view of every version. Writing the lines once, not into raw_spend and again into
-- spend_lines, is most of what a full build saves; the lines flagged are few.
--
-- Which lines, for speed (the rule is the one of 010_projects.sql, row for row): a window
-- over the natural key would sort millions of lines. But the rule can only drop a line when
-- another file carries its key, and almost every key comes from one file only. So:
--   1. Each line's key is hashed to one 64-bit number (NULLs hash alike, as PARTITION BY
--      compares them).
--   2. A key carried by two or more files has at least one line outside the largest file:
--      the hashes of the lines outside it (few) are the only candidates, and `contested`
--      keeps those that two or more files carry.
--   3. Only lines whose hash is contested (a restated key, or a different key that shares
--      its hash) go through the rule itself, dense_rank over the full natural key; those it
--      ranks below the latest file are superseded.
-- Which file counts as the largest changes only the speed, never the rows. rowid names the
-- lines to flag; the transaction keeps a checkpoint from renumbering them meanwhile.
--
-- The table is stored in no particular order (query it with ORDER BY): nothing downstream
-- reads it in order (its sums are DECIMAL, exact in any order).
BEGIN TRANSACTION;

CREATE OR REPLACE TEMP TABLE _superseded AS
WITH
largest_file AS (
    SELECT _file_sha256
    FROM spend_versions
    GROUP BY _file_sha256
    ORDER BY count(*) DESC, _file_sha256
    LIMIT 1
),
candidate AS (
    SELECT DISTINCT hash(project_id, department, financial_year, period, budget_type, line_ref) AS _key_hash
    FROM spend_versions
    WHERE _file_sha256 IS DISTINCT FROM (SELECT _file_sha256 FROM largest_file)
),
-- Each file as a small number, in (_arrival, _file_sha256) order: two lines come from
-- different files exactly when their numbers differ, so "two or more files carry the key"
-- is min <> max over a number (a few bytes a key, and spillable), not over the 64-character
-- digests (1.6M lines in four files ran out of memory at 96MB).
file_no AS (
    SELECT _arrival, _file_sha256, row_number() OVER (ORDER BY _arrival, _file_sha256) AS _file_no
    FROM (SELECT DISTINCT _arrival, _file_sha256 FROM spend_versions)
),
contested AS (
    SELECT k._key_hash
    FROM (
        SELECT hash(s.project_id, s.department, s.financial_year, s.period, s.budget_type, s.line_ref) AS _key_hash,
               f._file_no
        FROM spend_versions AS s
        JOIN file_no AS f
          ON f._arrival IS NOT DISTINCT FROM s._arrival AND f._file_sha256 IS NOT DISTINCT FROM s._file_sha256
    ) AS k
    SEMI JOIN candidate USING (_key_hash)
    GROUP BY k._key_hash
    HAVING min(k._file_no) <> max(k._file_no)
)
SELECT _row
FROM (
    SELECT rowid AS _row, project_id, department, financial_year, period, budget_type, line_ref, _arrival, _file_sha256
    FROM spend_versions
    WHERE hash(project_id, department, financial_year, period, budget_type, line_ref) IN (SELECT _key_hash FROM contested)
)
QUALIFY dense_rank() OVER (
    PARTITION BY project_id, department, financial_year, period, budget_type, line_ref
    ORDER BY _arrival DESC, _file_sha256 DESC
) > 1;

UPDATE spend_versions SET current = false WHERE rowid IN (SELECT _row FROM _superseded);

DROP TABLE _superseded;

COMMIT;
