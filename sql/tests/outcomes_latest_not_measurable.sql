-- severity: warn
-- Informative. DESIGN.md "Attainment, per outcome on its latest period_end": an outcome whose
-- latest row lacks baseline, target or actual, or has target = baseline, is left out of
-- attainment and consistency (no fall-back to an older row). Listed so a department can see
-- why an outcome does not count. Registered projects only (the others are not scored).
WITH latest AS (
    SELECT *
    FROM outcomes
    WHERE project_id IN (SELECT project_id FROM projects)
    QUALIFY row_number() OVER (
        PARTITION BY project_id, outcome_id
        ORDER BY period_end DESC, _arrival DESC, _source_line DESC
    ) = 1
)
SELECT
    project_id, outcome_id, period_end, baseline, target, actual,
    concat_ws(', ',
        CASE WHEN baseline IS NULL THEN 'no baseline' END,
        CASE WHEN target IS NULL THEN 'no target' END,
        CASE WHEN actual IS NULL THEN 'no actual' END,
        CASE WHEN target = baseline THEN 'target = baseline' END) AS why,
    _file_sha256, _source_line
FROM latest
WHERE baseline IS NULL OR target IS NULL OR actual IS NULL OR target = baseline
ORDER BY project_id, outcome_id;
