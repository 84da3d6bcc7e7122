-- scorecard_history: every published batch's scorecard (DESIGN.md "Reports and operational
-- marts"). The scorecards of earlier batches come from the lake, lake/_history/scorecard/
-- (pipeline/history writes one Parquet file per batch once its warehouse is live; the
-- build loads them into raw_scorecard_history), so full rebuilds, incremental builds and
-- rollbacks keep them; this build's own scorecard is added as the newest, since the file
-- is only published if its data tests pass.
--
--   batch_seq   the order the batches were made in (1 = the oldest kept in the lake)
--   withdrawn   the batch's warehouse was replaced by an older one (sofpipe rollback, or
--               a file put back by hand): its rows stay, as a record of what was
--               published, but band_changes does not compare against them
--
-- A column a batch's file lacks (written before the column existed) is NULL.
-- Order: batch_seq, project_id.
CREATE OR REPLACE TABLE scorecard_history AS
WITH
this_build AS (
    SELECT
        coalesce((SELECT max(batch_seq) FROM raw_scorecard_history), 0) + 1 AS batch_seq,
        (SELECT batch_id FROM _build) AS batch_id
)
SELECT * FROM (
    SELECT
        batch_seq, batch_id, withdrawn, as_of_financial_year, as_of_period, project_id,
        project_name, band, score, score_evidence, score_value, score_attainment,
        score_consistency, score_delivery, score_joinup, gate_evidence, gate_value,
        gate_data_quality, evidence_sms, bcr, attainment, spend_variance, returns_share,
        data_quality, reasons
    FROM raw_scorecard_history
    UNION ALL
    SELECT
        b.batch_seq, b.batch_id, false, s.as_of_financial_year, s.as_of_period, s.project_id,
        s.project_name, s.band, s.score, s.score_evidence, s.score_value, s.score_attainment,
        s.score_consistency, s.score_delivery, s.score_joinup, s.gate_evidence, s.gate_value,
        s.gate_data_quality, s.evidence_sms, s.bcr, s.attainment, s.spend_variance,
        s.returns_share, s.data_quality, s.reasons
    FROM project_scorecard AS s
    CROSS JOIN this_build AS b
)
ORDER BY batch_seq, project_id;
