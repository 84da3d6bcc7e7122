-- returns_status: the chase list (DESIGN.md "Reports and operational marts"). One row per
-- (project, department, month) of each registered project's returns window, as DESIGN.md
-- "Data quality" / "Returns" and project_scorecard (interpretation 7) define it: the
-- departments with any spend line for the project, at any date, times the calendar months
-- from the month of start_date to the month of min(end_date, as_of), both included. A
-- project with no spend line, or whose window has no months, has no rows here (and
-- returns_expected 0 in project_scorecard). The data test returns_status_reconciles holds
-- this table to project_scorecard's returns_expected and returns_received, project by
-- project.
--
--   received            a current spend line (spend_lines) of that department falls in the
--                       month (its financial_year and period)
--   first_received_at   when the first file carrying a line for the month arrived (the
--                       ledger's received_at of the earliest-arriving file in raw_spend,
--                       every version counted: a correction does not make a return later)
--   first_file          that file's name as delivered, and first_file_sha256 its digest
--   due_date            the returns_due_day (_params; config marts.returns_due_day, default
--                       20) of the month after the return's month
--   days_late           days from due_date to the first arrival's date in UK time
--                       (Europe/London), 0 when on time or early; NULL when not received
--   status              'on_time', 'late' or 'missing'
--
-- Nothing here depends on when the batch runs: how long a missing return has been owed is
-- the report's to say, at the batch's own date.
--
-- Order: project_id, department, month.
CREATE OR REPLACE TABLE returns_status AS
WITH
params AS (
    SELECT * FROM _params
),
sc AS (
    SELECT
        project_id,
        project_name,
        lead_department,
        start_date,
        end_date,
        CASE WHEN as_of_financial_year IS NOT NULL THEN make_date(
            CAST(left(as_of_financial_year, 4) AS INTEGER) + CASE WHEN as_of_period >= 10 THEN 1 ELSE 0 END,
            (as_of_period + 2) % 12 + 1,
            1
        ) END AS as_of_month
    FROM project_scorecard
),
windows AS (
    SELECT
        project_id,
        CAST(date_trunc('month', start_date) AS DATE) AS window_start,
        -- least() skips NULL: no end_date means as_of, no as_of means end_date
        least(CAST(date_trunc('month', end_date) AS DATE), as_of_month) AS window_end
    FROM sc
),
months AS (
    SELECT
        w.project_id,
        CAST(w.window_start + to_months(CAST(k AS INTEGER)) AS DATE) AS month
    FROM windows AS w,
        unnest(range(0, date_diff('month', w.window_start, w.window_end) + 1)) AS t(k)
    WHERE w.window_start <= w.window_end
),
-- The spend lines are read as spend_department_periods has them (016: whether a current
-- line falls in the period, and the file of any version that came first); a (financial
-- year, period) is one month. The file is looked up here, on the periods, not on the
-- chase list's rows: joined there, the build needed over 40MB for a few thousand rows.
periods AS (
    SELECT
        p.project_id,
        p.department,
        make_date(
            CAST(left(p.financial_year, 4) AS INTEGER) + CASE WHEN p.period >= 10 THEN 1 ELSE 0 END,
            (p.period + 2) % 12 + 1,
            1
        ) AS month,
        p.received,
        f.file_sha256 AS first_file_sha256,
        f.received_at AS first_received_at,
        f.source_path AS first_file
    FROM spend_department_periods AS p
    LEFT JOIN _files AS f ON f.file_sha256 = p.first_file_sha256
    WHERE p.project_id IN (SELECT project_id FROM sc)
),
departments AS (
    SELECT DISTINCT project_id, department FROM periods WHERE received
),
expected AS (
    SELECT
        m.project_id,
        d.department,
        m.month,
        CAST(m.month + INTERVAL 1 MONTH AS DATE) AS next_month
    FROM months AS m
    JOIN departments AS d USING (project_id)
)
SELECT
    e.project_id,
    sc.project_name,
    sc.lead_department,
    e.department,
    e.month,
    printf('%d-%02d', year(e.month) - CASE WHEN month(e.month) < 4 THEN 1 ELSE 0 END,
           (year(e.month) - CASE WHEN month(e.month) < 4 THEN 1 ELSE 0 END + 1) % 100) AS financial_year,
    CAST((month(e.month) + 8) % 12 + 1 AS INTEGER) AS period,
    make_date(year(e.next_month), month(e.next_month), p.returns_due_day) AS due_date,
    rc.project_id IS NOT NULL AS received,
    rc.first_received_at,
    rc.first_file,
    rc.first_file_sha256,
    CASE WHEN rc.project_id IS NOT NULL THEN CAST(greatest(0, date_diff('day',
        make_date(year(e.next_month), month(e.next_month), p.returns_due_day),
        CAST(timezone('Europe/London', rc.first_received_at) AS DATE))) AS INTEGER) END AS days_late,
    CASE WHEN rc.project_id IS NULL THEN 'missing'
         WHEN CAST(timezone('Europe/London', rc.first_received_at) AS DATE)
              > make_date(year(e.next_month), month(e.next_month), p.returns_due_day) THEN 'late'
         ELSE 'on_time' END AS status
FROM expected AS e
JOIN sc USING (project_id)
CROSS JOIN params AS p
LEFT JOIN (SELECT * FROM periods WHERE received) AS rc USING (project_id, department, month)
ORDER BY e.project_id, e.department, e.month;
