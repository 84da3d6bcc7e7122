-- band_changes: what moved between the last two published batches (DESIGN.md "Reports and
-- operational marts"): this build's scorecard against the newest earlier batch in
-- scorecard_history that was not withdrawn. One row per project whose band or score
-- differs, with both values, and per project that is new to the register ('new') or has
-- left it ('removed'). Empty when there is no earlier batch.
--
--   change   'band' (the band moved; the score may have too), 'score' (the score only),
--            'new' or 'removed'
--
-- Scores are compared as stored (rounded to 1 dp by project_scorecard), so a change below
-- 0.05 is no change. Order: band moves first, then new, removed and score-only changes,
-- then project_id.
CREATE OR REPLACE TABLE band_changes AS
WITH
batches AS (
    SELECT DISTINCT batch_seq, batch_id FROM scorecard_history WHERE NOT withdrawn
),
cur AS (
    SELECT * FROM batches ORDER BY batch_seq DESC LIMIT 1
),
prev AS (
    SELECT * FROM batches ORDER BY batch_seq DESC LIMIT 1 OFFSET 1
),
was AS (
    SELECT h.* FROM scorecard_history AS h SEMI JOIN prev USING (batch_seq)
),
now AS (
    SELECT h.* FROM scorecard_history AS h SEMI JOIN cur USING (batch_seq)
),
paired AS (
    SELECT
        coalesce(n.project_id, w.project_id) AS project_id,
        coalesce(n.project_name, w.project_name) AS project_name,
        (SELECT batch_id FROM prev) AS previous_batch_id,
        (SELECT batch_id FROM cur) AS batch_id,
        w.band AS previous_band,
        n.band,
        w.score AS previous_score,
        n.score,
        round(n.score - w.score, 1) AS score_change,
        CASE WHEN w.project_id IS NULL THEN 'new'
             WHEN n.project_id IS NULL THEN 'removed'
             WHEN w.band IS DISTINCT FROM n.band THEN 'band'
             ELSE 'score' END AS change
    FROM was AS w
    FULL JOIN now AS n ON n.project_id = w.project_id
    WHERE EXISTS (SELECT 1 FROM prev)
      AND (w.project_id IS NULL OR n.project_id IS NULL
           OR w.band IS DISTINCT FROM n.band OR w.score IS DISTINCT FROM n.score)
)
SELECT *
FROM paired
ORDER BY CASE change WHEN 'band' THEN 1 WHEN 'new' THEN 2 WHEN 'removed' THEN 3 ELSE 4 END, project_id;
