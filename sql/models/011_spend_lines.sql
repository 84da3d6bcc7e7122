-- spend_lines: every spend line as it stands now (the restatement rule of 010_projects.sql).
--
-- Natural key (contract): project_id, department, financial_year, period, budget_type,
-- line_ref. line_ref is optional, so a return usually carries several lines with the same
-- key (one per payment): all lines of the latest file for the key count, and a department's
-- corrected return replaces the whole set of lines it had sent for that key, even when it
-- now has fewer lines (DESIGN.md "Idempotent and restatement-aware").
--
-- How, for speed (the rule is the one of 010_projects.sql, row for row): raw_spend holds
-- millions of lines, and a window over the natural key would sort them all with every
-- column. But the rule can only drop a line when another file carries its key, and almost
-- every key comes from one file only. So:
--   1. Each line's key is hashed to one 64-bit number, _key_hash (NULLs hash alike, as
--      PARTITION BY compares them).
--   2. A key carried by two or more files has at least one line outside the largest file:
--      the hashes of the lines outside it (few) are the only candidates, and `contested`
--      keeps those that two or more files carry.
--   3. Lines whose hash is not contested are the only version of their key: kept as they
--      are. Lines whose hash is contested (a restated key, or a different key that shares
--      its hash) go through the rule itself, dense_rank over the full natural key.
-- Which file counts as the largest changes only the speed, never the rows.
--
-- The table is stored in no particular order (query it with ORDER BY): sorting five million
-- lines with all their columns took half the build, and nothing downstream reads it in
-- order (its sums are DECIMAL, exact in any order).
CREATE OR REPLACE TABLE spend_lines AS
WITH
largest_file AS (
    SELECT _file_sha256
    FROM raw_spend
    GROUP BY _file_sha256
    ORDER BY count(*) DESC, _file_sha256
    LIMIT 1
),
candidate AS (
    SELECT DISTINCT hash(project_id, department, financial_year, period, budget_type, line_ref) AS _key_hash
    FROM raw_spend
    WHERE _file_sha256 IS DISTINCT FROM (SELECT _file_sha256 FROM largest_file)
),
contested AS (
    SELECT k._key_hash
    FROM (
        SELECT hash(project_id, department, financial_year, period, budget_type, line_ref) AS _key_hash,
               _arrival, _file_sha256
        FROM raw_spend
    ) AS k
    SEMI JOIN candidate USING (_key_hash)
    GROUP BY k._key_hash
    HAVING count(DISTINCT (k._arrival, k._file_sha256)) > 1
),
keyed AS NOT MATERIALIZED (
    SELECT *, hash(project_id, department, financial_year, period, budget_type, line_ref) AS _key_hash
    FROM raw_spend
)
SELECT * EXCLUDE (_key_hash)
FROM (
    SELECT * FROM keyed ANTI JOIN contested USING (_key_hash)
    UNION ALL
    SELECT * FROM keyed SEMI JOIN contested USING (_key_hash)
    QUALIFY dense_rank() OVER (
        PARTITION BY project_id, department, financial_year, period, budget_type, line_ref
        ORDER BY _arrival DESC, _file_sha256 DESC
    ) = 1
);
