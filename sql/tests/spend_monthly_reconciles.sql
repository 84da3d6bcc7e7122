-- severity: error
-- Guards spend_monthly against losing or inventing money (DESIGN.md "Nothing is lost"): in
-- total it must hold the same lines, actual and planned pounds as spend_lines. Returns one
-- row describing the difference when they disagree.
WITH lines AS (
    SELECT count(*) AS lines, coalesce(sum(actual_gbp), 0) AS actual_gbp, coalesce(sum(planned_gbp), 0) AS planned_gbp
    FROM spend_lines
),
monthly AS (
    SELECT coalesce(sum(lines), 0) AS lines, coalesce(sum(actual_gbp), 0) AS actual_gbp, coalesce(sum(planned_gbp), 0) AS planned_gbp
    FROM spend_monthly
)
SELECT
    l.lines AS spend_lines_lines, m.lines AS spend_monthly_lines,
    l.actual_gbp AS spend_lines_actual_gbp, m.actual_gbp AS spend_monthly_actual_gbp,
    l.planned_gbp AS spend_lines_planned_gbp, m.planned_gbp AS spend_monthly_planned_gbp
FROM lines AS l, monthly AS m
WHERE l.lines <> m.lines OR l.actual_gbp <> m.actual_gbp OR l.planned_gbp <> m.planned_gbp;
