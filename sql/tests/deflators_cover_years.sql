-- severity: error
-- Guards DESIGN.md "Money": real = nominal × index[base] / index[fy]. A financial year used by
-- a registered project's spend or monetised benefits, or the base year itself, without a
-- deflator would give pv NULL and silently drop money from cost or benefit, so the bcr and
-- the band would be wrong. Returns each missing year with what needs it.
WITH needed AS (
    -- spend_periods: the current spend lines summed (015_spend_periods.sql)
    SELECT s.financial_year, 'spend' AS needed_by, s.project_id
    FROM spend_periods AS s
    WHERE s.current AND s.project_id IN (SELECT project_id FROM projects)
    UNION ALL
    SELECT
        printf('%d-%02d',
               year(o.period_end) - CASE WHEN month(o.period_end) < 4 THEN 1 ELSE 0 END,
               (year(o.period_end) - CASE WHEN month(o.period_end) < 4 THEN 1 ELSE 0 END + 1) % 100),
        'benefit', o.project_id
    FROM outcomes AS o
    WHERE o.benefit_gbp IS NOT NULL
      AND o.project_id IN (SELECT project_id FROM projects)
    UNION ALL
    SELECT base_year, 'base_year', NULL FROM _params
)
SELECT
    n.financial_year,
    n.needed_by,
    count(DISTINCT n.project_id) AS projects,
    min(n.project_id) AS example_project
FROM needed AS n
WHERE n.financial_year NOT IN (SELECT financial_year FROM gdp_deflators WHERE financial_year IS NOT NULL)
GROUP BY n.financial_year, n.needed_by
ORDER BY n.financial_year, n.needed_by;
