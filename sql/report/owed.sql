-- What each department owes or sent late, by project: missing months (first and last)
-- and late returns, in the chase list's order of departments, worst project first.
WITH dept AS (
    SELECT department,
           row_number() OVER (ORDER BY count(*) FILTER (WHERE status = 'missing') DESC,
                                       count(*) FILTER (WHERE status = 'late') DESC, department) AS ord
    FROM returns_status
    GROUP BY department
)
SELECT
    r.department,
    r.project_id,
    count(*) FILTER (WHERE r.status = 'missing') AS missing,
    min(r.month) FILTER (WHERE r.status = 'missing'),
    max(r.month) FILTER (WHERE r.status = 'missing'),
    min(r.due_date) FILTER (WHERE r.status = 'missing'),
    count(*) FILTER (WHERE r.status = 'late') AS late,
    coalesce(max(r.days_late), 0)
FROM returns_status AS r
JOIN dept AS d USING (department)
GROUP BY d.ord, r.department, r.project_id
HAVING count(*) FILTER (WHERE r.status <> 'on_time') > 0
ORDER BY d.ord, missing DESC, late DESC, r.project_id
