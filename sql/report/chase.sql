-- The chase list by department, worst first: returns missing, then late.
SELECT
    department,
    count(DISTINCT project_id),
    count(*),
    count(*) FILTER (WHERE status = 'missing'),
    count(*) FILTER (WHERE status = 'late'),
    count(*) FILTER (WHERE status = 'on_time'),
    coalesce(max(days_late), 0),
    min(due_date) FILTER (WHERE status = 'missing')
FROM returns_status
GROUP BY department
ORDER BY 4 DESC, 5 DESC, department
