-- Spend against plan of registered projects by department and financial year, in real
-- terms at the base year's prices (DESIGN.md "Money": real = nominal × index[base] /
-- index[fy]); NULL where a year has no deflator.
SELECT
    s.department,
    s.financial_year,
    CAST(sum(s.planned_gbp) AS DOUBLE) * any_value(b."index") / any_value(d."index") AS planned_real,
    CAST(sum(s.actual_gbp) AS DOUBLE) * any_value(b."index") / any_value(d."index") AS actual_real
FROM spend_monthly AS s
CROSS JOIN _params AS p
LEFT JOIN gdp_deflators AS d ON d.financial_year = s.financial_year
LEFT JOIN gdp_deflators AS b ON b.financial_year = p.base_year
WHERE s.in_register
GROUP BY s.department, s.financial_year
ORDER BY s.department, s.financial_year
