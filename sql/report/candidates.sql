-- Scale-up candidates in their rank, with each component weighted as the score adds them.
SELECT
    c.rank, c.project_id, c.project_name, c.band, c.score,
    p.weight_evidence * c.score_evidence,
    p.weight_value * c.score_value,
    p.weight_attainment * c.score_attainment,
    p.weight_consistency * c.score_consistency,
    p.weight_delivery * c.score_delivery,
    p.weight_joinup * c.score_joinup,
    c.gate_evidence, c.gate_value, c.gate_data_quality,
    c.evidence_sms, c.bcr, c.returns_share, c.reasons
FROM scale_up_candidates AS c
CROSS JOIN _params AS p
ORDER BY c.rank
