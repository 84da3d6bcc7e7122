-- restates: projects
-- projects: the project register as it stands now, one row per project_id.
--
-- Why: raw_projects holds every accepted row of every ingested file, superseded versions
-- included. DESIGN.md "Idempotent and restatement-aware": a later file that carries rows for
-- the same natural key supersedes the earlier rows; the earlier version stays in the lake as
-- history and the models read the latest.
--
-- The restatement rule, the same in models 010-014: for each natural key (the contract's
-- Key; NULLs in key columns compare equal, as PARTITION BY does), keep every row that the
-- latest file carrying that key delivered for it, and nothing from older files. "Latest" is
-- the greatest _arrival; _file_sha256 breaks a tie so the choice never depends on scan order
-- (dense_rank keeps all rows of the one winning file). The lineage columns stay so an
-- analyst can trace each row to its file and line. A project_id that one file lists twice
-- keeps both rows here and fails the data test projects_unique.
CREATE OR REPLACE TABLE projects AS
SELECT *
FROM raw_projects
QUALIFY dense_rank() OVER (
    PARTITION BY project_id
    ORDER BY _arrival DESC, _file_sha256 DESC
) = 1
ORDER BY project_id, _arrival, _source_line;
