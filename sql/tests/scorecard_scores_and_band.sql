-- severity: error
-- Guards DESIGN.md "Per project": every component score and the score lie in [0, 100] and are
-- never NULL; the band is one of the three and agrees with the rule (scale_up only when the
-- rounded score reaches band_scale_up_min and every gate passes; stop_and_learn exactly when
-- the score is below band_extend_min); returns_share lies in [0, 1]. The band is re-derived
-- from the stored score, which the model has already rounded (to 9 dp, then 1 dp) and
-- decided on, and from the stored gates, which it decided on 9-dp values (DESIGN.md "The
-- two marts"): comparing them as they are is comparing what the model compared.
SELECT s.project_id, s.score, s.band, s.gate_evidence, s.gate_value, s.gate_data_quality,
       s.score_evidence, s.score_value, s.score_attainment, s.score_consistency,
       s.score_delivery, s.score_joinup, s.returns_share
FROM project_scorecard AS s
CROSS JOIN _params AS p
WHERE NOT coalesce(
        s.score BETWEEN 0 AND 100
    AND s.score_evidence BETWEEN 0 AND 100
    AND s.score_value BETWEEN 0 AND 100
    AND s.score_attainment BETWEEN 0 AND 100
    AND s.score_consistency BETWEEN 0 AND 100
    AND s.score_delivery BETWEEN 0 AND 100
    AND s.score_joinup BETWEEN 0 AND 100
    AND s.returns_share BETWEEN 0 AND 1
    AND s.band IN ('scale_up', 'extend_and_evaluate', 'stop_and_learn')
    AND (s.band = 'scale_up') = (s.score >= p.band_scale_up_min
                                 AND s.gate_evidence AND s.gate_value AND s.gate_data_quality)
    AND (s.band = 'stop_and_learn') = (s.score < p.band_extend_min),
    false)
ORDER BY s.project_id;
