-- lessons_learned: what the Public Accounts Committee asked the Cabinet Office and HM Treasury
-- to publish, as one long table with a part column (DESIGN.md "The two marts",
-- "lessons_learned"). Both parts share one set of columns; a column that does not apply to
-- a part is NULL there.
--
-- part 'reported' (columns theme, polarity, projects_reporting, lessons, share_of_projects,
-- policy_areas, latest_example, latest_example_project): one row per theme × polarity that
-- at least one registered project reported (combinations nobody reported are not listed).
--   share_of_projects = projects reporting / registered projects;
--   policy_areas = the distinct policy areas of the reporting projects, sorted, joined "; ";
--   latest_example = the lesson with the latest reported_on, ties broken by project_id then
--   lesson_id (ascending), and its project.
-- part 'pattern' (columns dimension, value, projects, median_attainment, share_evidence_sms3,
-- median_spend_variance, share_scale_up, mean_returns_share): one row per value of each
-- dimension policy_area, sof_round, lead_department, departments_band, delivery_model, over
-- the rows of project_scorecard. Medians are interpolated (quantile_cont 0.5) over the
-- projects that have a value and NULL when none has; share_evidence_sms3 counts
-- evidence_sms ≥ gate_min_sms among all the group's projects (no evidence = not ≥ 3). A
-- project without delivery_model is grouped under '(not recorded)'.
--
-- Lessons of projects not in the register are left out (DESIGN.md "Nothing is lost"; listed
-- by the warn test unregistered_project_rows). project_scorecard is the register here: it has
-- exactly one row per registered project.
--
-- Order: 'reported' rows by theme then polarity, then 'pattern' rows by dimension in the
-- order above, then value (byte order).
CREATE OR REPLACE TABLE lessons_learned AS
WITH
params AS (
    SELECT * FROM _params
),
register AS (
    SELECT count(*) AS registered_projects FROM project_scorecard
),
reported AS (
    SELECT
        1 AS part_ord,
        'reported' AS part,
        l.theme,
        l.polarity,
        CAST(NULL AS INTEGER) AS dim_ord,
        CAST(NULL AS VARCHAR) AS dimension,
        CAST(NULL AS VARCHAR) AS value,
        count(DISTINCT l.project_id) AS projects_reporting,
        count(*) AS lessons,
        count(DISTINCT l.project_id) / NULLIF(any_value(r.registered_projects), 0) AS share_of_projects,
        string_agg(DISTINCT s.policy_area, '; ' ORDER BY s.policy_area) AS policy_areas,
        first(l.lesson ORDER BY l.reported_on DESC, l.project_id, l.lesson_id) AS latest_example,
        first(l.project_id ORDER BY l.reported_on DESC, l.project_id, l.lesson_id) AS latest_example_project,
        CAST(NULL AS BIGINT) AS projects,
        CAST(NULL AS DOUBLE) AS median_attainment,
        CAST(NULL AS DOUBLE) AS share_evidence_sms3,
        CAST(NULL AS DOUBLE) AS median_spend_variance,
        CAST(NULL AS DOUBLE) AS share_scale_up,
        CAST(NULL AS DOUBLE) AS mean_returns_share
    FROM lessons AS l
    JOIN project_scorecard AS s USING (project_id)
    CROSS JOIN register AS r
    GROUP BY l.theme, l.polarity
),
by_dimension AS (
    SELECT 1 AS dim_ord, 'policy_area' AS dimension, policy_area AS value, * FROM project_scorecard
    UNION ALL
    SELECT 2, 'sof_round', CAST(sof_round AS VARCHAR), * FROM project_scorecard
    UNION ALL
    SELECT 3, 'lead_department', lead_department, * FROM project_scorecard
    UNION ALL
    SELECT 4, 'departments_band', departments_band, * FROM project_scorecard
    UNION ALL
    SELECT 5, 'delivery_model', coalesce(delivery_model, '(not recorded)'), * FROM project_scorecard
),
pattern AS (
    SELECT
        2 AS part_ord,
        'pattern' AS part,
        CAST(NULL AS VARCHAR) AS theme,
        CAST(NULL AS VARCHAR) AS polarity,
        d.dim_ord,
        d.dimension,
        d.value,
        CAST(NULL AS BIGINT) AS projects_reporting,
        CAST(NULL AS BIGINT) AS lessons,
        CAST(NULL AS DOUBLE) AS share_of_projects,
        CAST(NULL AS VARCHAR) AS policy_areas,
        CAST(NULL AS VARCHAR) AS latest_example,
        CAST(NULL AS VARCHAR) AS latest_example_project,
        count(*) AS projects,
        quantile_cont(d.attainment, 0.5) AS median_attainment,
        count(*) FILTER (WHERE d.evidence_sms >= p.gate_min_sms) / count(*) AS share_evidence_sms3,
        quantile_cont(d.spend_variance, 0.5) AS median_spend_variance,
        count(*) FILTER (WHERE d.band = 'scale_up') / count(*) AS share_scale_up,
        avg(d.returns_share ORDER BY d.project_id) AS mean_returns_share  -- fixed order: same bits every build
    FROM by_dimension AS d
    CROSS JOIN params AS p
    GROUP BY d.dim_ord, d.dimension, d.value
)
SELECT
    part, theme, polarity, dimension, value,
    projects_reporting, lessons, share_of_projects, policy_areas, latest_example, latest_example_project,
    projects, median_attainment, share_evidence_sms3, median_spend_variance, share_scale_up, mean_returns_share
FROM (
    SELECT * FROM reported
    UNION ALL BY NAME
    SELECT * FROM pattern
)
ORDER BY part_ord, theme, polarity, dim_ord, value;
