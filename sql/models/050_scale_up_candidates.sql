-- scale_up_candidates: the answer to the Public Accounts Committee's question "which projects
-- could be scaled up" (DESIGN.md "The two marts": scale_up_candidates shows the same columns
-- as project_scorecard). Every registered project is listed, not just those in scale_up, so a
-- reader sees why the others are not there (reasons).
--
-- Order: scale_up, extend_and_evaluate, stop_and_learn, then score descending, then
-- project_id. The leading rank column (1 = first in that order) is added because the
-- exports are read in spreadsheets and by Parquet readers, neither of which keeps a table's
-- row order reliably; with rank the order survives a re-sort. project_id makes it unique.
CREATE OR REPLACE TABLE scale_up_candidates AS
SELECT
    row_number() OVER (
        ORDER BY CASE band WHEN 'scale_up' THEN 1 WHEN 'extend_and_evaluate' THEN 2 ELSE 3 END,
                 score DESC,
                 project_id
    ) AS rank,
    *
FROM project_scorecard
ORDER BY rank;
