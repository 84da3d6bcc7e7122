-- project_scorecard: one row per registered project with every input, component score, gate
-- and the band of DESIGN.md "The two marts" / "Per project". Each CTE below is one rule of
-- that section, in its order, and cites it. Every constant comes from _params (the config
-- defaults are the DESIGN.md numbers), so a config change never needs an SQL change.
--
-- Scope: the projects in the register. Spend and outcomes of projects not in the register
-- are left out (DESIGN.md "Nothing is lost"; listed by the warn test unregistered_project_rows).
--
-- Where DESIGN.md is silent, this model decides as follows (fixtures/golden pins 1, 2, 4, 7, 9):
--  1. as_of: when the config sets as_of_financial_year it is used with as_of_period (the
--     config requires both; a NULL period would mean 12, the year's end). Otherwise as_of is
--     the latest (financial_year, period) in the spend of REGISTERED projects, since rows of
--     unregistered projects must not move the marts. No spend at all: as_of is NULL, and
--     the returns window then ends at end_date.
--  2. Cost is every current spend line of the project, whatever its date (spend before the
--     start or after the end still cost money). Benefit is benefit_gbp of every current
--     outcomes row (each is "the monetised benefit in the period"), not just the latest;
--     rows without benefit_gbp add nothing. No spend: cost 0; no benefit: benefit 0.
--  3. A qualifying result may come from any period's row, not only the latest; a qualifying
--     row without sms_level gives no level. evidence_sms outside 1..5 scores 0.
--  4. Attainment uses each outcome's latest period_end row even when that row is not
--     measurable: the outcome is then left out, with no fall-back to an older row (the warn
--     test outcomes_latest_not_measurable lists them). If the latest file carries two rows
--     for one (project, outcome, period_end), the one on the later source line is used (the
--     warn test outcomes_duplicate_measurement lists them). Consistency compares the clamped
--     attainment with consistency_threshold (>=).
--  5. spend_variance with Σ planned = 0 is undefined: NULL, and D = 0 as for "no planned".
--  6. departments: lead, each trimmed non-empty `;`-separated partner, and each spend line's
--     department, compared exactly as delivered (the ingest trims; source profiles are where
--     spellings are unified). joinup_max_extra_departments = 0 gives J = 0.
--  7. Returns window: calendar months from the month of start_date to the month of
--     min(end_date, as_of) (end_date NULL: as_of), both included, none when that end falls
--     before the start. Expected = number of departments with any spend line for the project
--     (at any date) × months. returns_share = received / expected, and 0 when expected is 0
--     (no spend line, or a window with no months), so such a project is red.
--  8. score: the weighted sum is first rounded to 9 dp, to drop binary floating-point noise,
--     then to 1 dp half away from zero (69.95 -> 70.0, as a hand computation does).
--     Every other threshold is decided the same way (DESIGN.md "The two marts"): on the
--     computed value rounded to 9 dp, never on the raw double, which can land a hair on
--     the wrong side (4.8 against baseline 4 and target 5 is attainment 0.8, computed
--     0.7999999999999998; a bcr of 1.5 can come out 1.4999999999999996). The stored
--     values (attainment, bcr, spend_variance, returns_share) keep full precision; only
--     the decisions read them rounded. Thresholds come from _params as written in the
--     config, so they need no rounding. fixtures/golden-thresholds pins each one.
--  9. reasons: failed gates first, in the order evidence, value, data quality:
--       "gate failed: no impact result at SMS ≥ 3"              (no qualifying result)
--       "gate failed: no impact result at SMS ≥ 3 (best SMS 2)"  (best qualifying SMS below)
--       "gate failed: bcr 0.82 < 1"  |  "gate failed: no bcr (cost ≤ 0)"
--       "gate failed: returns 60% < 75%"
--     then "strongest: <component> (<detail>), <component> (<detail>)": the two largest
--     weighted components (compared at 9 dp), ties broken by the fixed order evidence, value
--     for money, attainment, consistency, delivery, join-up. Components whose weighted score
--     is 0 are never named "strongest"; with none above 0 the part is left out. Parts are
--     joined with "; ". Details: "SMS 4", "bcr 2.4", "attainment 92%", "consistency 100%",
--     "variance +4%", "5 departments". bcr shows at most 2 decimals without trailing zeros,
--     shares as whole percentages rounded half away from zero; inside a failed-gate message
--     the value is truncated toward the failing side (bcr 0.996 -> "0.99", returns 74.9% ->
--     "74%") so a message never reads "75% < 75%".
CREATE OR REPLACE TABLE project_scorecard AS
WITH
params AS (
    SELECT * FROM _params
),

-- DESIGN.md "Periods": a date's financial year starts in April; the project's first
-- financial year (from start_date) anchors t in the present value.
registered AS (
    SELECT
        pr.*,
        year(pr.start_date) - CASE WHEN month(pr.start_date) < 4 THEN 1 ELSE 0 END AS first_fy_start
    FROM projects AS pr
),

-- The spend of registered projects, one row per (project, department, financial_year,
-- period) with a current line: every rule below needs only these keys and these sums, so
-- the (millions of) spend lines are not read and the rules work on the few rows here
-- (spend_department_periods, 016). actual_gbp sums every
-- line, planned_gbp and planned_lines the lines that carry a plan, and
-- planned_lines_actual_gbp the actual of those same lines (for "Delivery"). The sums are
-- exact DECIMALs, so summing them again gives what summing the lines would. DuckDB sums
-- DECIMAL(18,2) lines as DECIMAL(38,2), which no set of lines can overflow (each is below
-- 10^16 pounds, the type holds 10^36; see 020_spend_monthly.sql); cost_nominal_gbp keeps
-- that width for the same reason.
spend AS (
    SELECT
        s.project_id,
        s.department,
        s.financial_year,
        s.period,
        CAST(left(s.financial_year, 4) AS INTEGER) AS fy_start,
        make_date(
            CAST(left(s.financial_year, 4) AS INTEGER) + CASE WHEN s.period >= 10 THEN 1 ELSE 0 END,
            (s.period + 2) % 12 + 1,
            1
        ) AS month,
        s.actual_gbp,
        s.planned_gbp,
        s.planned_lines,
        s.planned_lines_actual_gbp
    -- spend_lines summed by file (015_spend_periods.sql), then by period (016)
    FROM spend_department_periods AS s
    WHERE s.received AND s.project_id IN (SELECT project_id FROM registered)
),

-- The departments of each project's spend, once each (spend has a row a month): trimmed
-- and counted below on these few rows, not on every month's (MATERIALIZED keeps the
-- filters of its readers from being pushed down to spend's rows).
spend_departments AS MATERIALIZED (
    SELECT DISTINCT project_id, department FROM spend
),

outc AS (
    SELECT
        o.*,
        year(o.period_end) - CASE WHEN month(o.period_end) < 4 THEN 1 ELSE 0 END AS fy_start
    FROM outcomes AS o
    WHERE o.project_id IN (SELECT project_id FROM registered)
),

-- DESIGN.md "Periods": as_of = the latest (financial_year, period) present in spend unless
-- the config sets it ("2023-24" strings sort chronologically).
latest_spend AS (
    SELECT financial_year, period
    FROM spend
    ORDER BY financial_year DESC, period DESC
    LIMIT 1
),
as_of AS (
    SELECT
        fy,
        period,
        make_date(
            CAST(left(fy, 4) AS INTEGER) + CASE WHEN period >= 10 THEN 1 ELSE 0 END,
            (period + 2) % 12 + 1,
            1
        ) AS month
    FROM (
        SELECT
            CASE WHEN p.as_of_financial_year IS NOT NULL THEN p.as_of_financial_year
                 ELSE l.financial_year END AS fy,
            CASE WHEN p.as_of_financial_year IS NOT NULL THEN coalesce(p.as_of_period, 12)
                 ELSE l.period END AS period
        FROM params AS p
        LEFT JOIN latest_spend AS l ON true
    )
),

-- DESIGN.md "Money": real = nominal × index[base] / index[fy]; pv = real / (1 + rate)^t,
-- t = start year of the fy − start year of the project's first fy. Cost = actual spend of all
-- departments by fy; benefit = benefit_gbp of outcomes by the fy of period_end.
deflator AS (
    SELECT d.financial_year, d."index" AS fy_index, b."index" AS base_index
    FROM gdp_deflators AS d
    CROSS JOIN params AS p
    LEFT JOIN gdp_deflators AS b ON b.financial_year = p.base_year
),
money_by_fy AS (
    SELECT 'cost' AS kind, project_id, fy_start, sum(actual_gbp) AS nominal
    FROM spend
    GROUP BY project_id, fy_start
    UNION ALL
    SELECT 'benefit' AS kind, project_id, fy_start, sum(benefit_gbp) AS nominal
    FROM outc
    WHERE benefit_gbp IS NOT NULL
    GROUP BY project_id, fy_start
),
money AS (
    SELECT
        m.project_id,
        sum(CASE WHEN m.kind = 'cost' THEN m.nominal END) AS cost_nominal_gbp,
        -- Floating-point sums in a fixed order: DuckDB otherwise adds partial sums in
        -- whatever order its threads finish, and two builds from the same data could
        -- differ in the last digit of a bcr.
        sum(CASE WHEN m.kind = 'cost' THEN m.pv END ORDER BY m.fy_start) AS cost_pv_gbp,
        sum(CASE WHEN m.kind = 'benefit' THEN m.pv END ORDER BY m.fy_start) AS benefit_pv_gbp
    FROM (
        SELECT
            m.kind,
            m.project_id,
            m.fy_start,
            m.nominal,
            CAST(m.nominal AS DOUBLE) * d.base_index / NULLIF(d.fy_index, 0)
                / power(1 + p.discount_rate, m.fy_start - r.first_fy_start) AS pv
        FROM money_by_fy AS m
        JOIN registered AS r USING (project_id)
        CROSS JOIN params AS p
        -- a year without a deflator gives pv NULL; the error test deflators_cover_years
        -- stops the publish before such a figure reaches anyone
        LEFT JOIN deflator AS d
            ON d.financial_year = printf('%d-%02d', m.fy_start, (m.fy_start + 1) % 100)
    ) AS m
    GROUP BY m.project_id
),

-- DESIGN.md "qualifying result": impact evaluation whose CI excludes zero in the good
-- direction; evidence_sms = the highest sms_level among them.
evidence AS (
    SELECT project_id, max(sms_level) AS evidence_sms
    FROM outc
    WHERE evaluation_type = 'impact'
      AND ((direction = 'higher_better' AND ci_low > 0)
        OR (direction = 'lower_better' AND ci_high < 0))
    GROUP BY project_id
),

-- DESIGN.md "Attainment, per outcome on its latest period_end": clamp((actual − baseline) /
-- (target − baseline), 0, cap); target = baseline or a missing value leaves the outcome out.
latest_outcome AS (
    SELECT *
    FROM outc
    QUALIFY row_number() OVER (
        PARTITION BY project_id, outcome_id
        ORDER BY period_end DESC, _arrival DESC, _source_line DESC
    ) = 1
),
outcome_attainment AS (
    SELECT
        o.project_id,
        o.outcome_id,
        least(greatest((o.actual - o.baseline) / (o.target - o.baseline), 0.0), p.attainment_cap) AS attainment
    FROM latest_outcome AS o
    CROSS JOIN params AS p
    WHERE o.baseline IS NOT NULL
      AND o.target IS NOT NULL
      AND o.actual IS NOT NULL
      AND o.target <> o.baseline
),
-- attainment = mean over outcomes; consistency = share with attainment ≥ threshold.
attainment AS (
    SELECT
        a.project_id,
        avg(a.attainment ORDER BY a.outcome_id) AS attainment,
        count(*) AS outcomes_measured,
        avg(CASE WHEN round(a.attainment, 9) >= p.consistency_threshold THEN 1.0 ELSE 0.0 END ORDER BY a.outcome_id) AS consistency
    FROM outcome_attainment AS a
    CROSS JOIN params AS p
    GROUP BY a.project_id
),

-- DESIGN.md "Delivery": (Σ actual − Σ planned) / Σ planned over the lines with a plan.
delivery AS (
    SELECT
        project_id,
        CAST(sum(planned_lines_actual_gbp) - sum(planned_gbp) AS DOUBLE)
            / NULLIF(CAST(sum(planned_gbp) AS DOUBLE), 0) AS spend_variance
    FROM spend
    WHERE planned_lines > 0
    GROUP BY project_id
),

-- DESIGN.md "Join-up": distinct lead, partner and spend departments.
departments AS (
    SELECT project_id, count(DISTINCT department) AS departments
    FROM (
        SELECT project_id, trim(lead_department) AS department FROM registered
        UNION ALL
        SELECT project_id, trim(unnest(string_split(partner_departments, ';'))) AS department
        FROM registered
        UNION ALL
        SELECT project_id, trim(department) AS department FROM spend_departments
    )
    WHERE department IS NOT NULL AND department <> ''
    GROUP BY project_id
),

-- DESIGN.md "Returns": expected = departments with any spend line × calendar months from the
-- start_date month to the month of min(end_date, as_of); received = distinct (department,
-- financial_year, period) with a line inside that window.
returns_window AS (
    SELECT
        r.project_id,
        CAST(date_trunc('month', r.start_date) AS DATE) AS window_start,
        -- least() skips NULL: no end_date means as_of, no as_of means end_date
        least(CAST(date_trunc('month', r.end_date) AS DATE), a.month) AS window_end
    FROM registered AS r
    CROSS JOIN as_of AS a
),
returns AS (
    SELECT
        w.project_id,
        coalesce(sd.spend_departments, 0)
            * greatest(coalesce(date_diff('month', w.window_start, w.window_end) + 1, 0), 0) AS returns_expected,
        coalesce(rc.returns_received, 0) AS returns_received
    FROM returns_window AS w
    LEFT JOIN (
        SELECT project_id, count(department) AS spend_departments
        FROM spend_departments
        GROUP BY project_id
    ) AS sd USING (project_id)
    LEFT JOIN (
        SELECT m.project_id, count(*) AS returns_received
        -- spend is one row per (department, financial_year, period), the grain of
        -- spend_department_periods: each a return
        FROM spend AS m
        JOIN returns_window AS w2 USING (project_id)
        WHERE m.month BETWEEN w2.window_start AND w2.window_end
        GROUP BY m.project_id
    ) AS rc USING (project_id)
),

measures AS (
    SELECT
        r.project_id,
        r.project_name,
        r.sof_round,
        r.lead_department,
        r.policy_area,
        r.delivery_model,
        r.start_date,
        r.end_date,
        CAST(coalesce(dp.departments, 0) AS INTEGER) AS departments,
        CASE WHEN dp.departments >= 4 THEN '4+'
             WHEN dp.departments >= 2 THEN '2-3'
             ELSE '1' END AS departments_band,
        printf('%d-%02d', r.first_fy_start, (r.first_fy_start + 1) % 100) AS first_financial_year,
        CAST(coalesce(m.cost_nominal_gbp, 0) AS DECIMAL(38, 2)) AS cost_nominal_gbp,
        coalesce(m.cost_pv_gbp, 0.0) AS cost_pv_gbp,
        coalesce(m.benefit_pv_gbp, 0.0) AS benefit_pv_gbp,
        -- DESIGN.md "Money": bcr null when Σ pv(cost) ≤ 0 (a sum of discounted doubles, so
        -- decided at 9 dp: refunds that cancel the spend by hand leave no 1e-12 cost)
        CASE WHEN round(m.cost_pv_gbp, 9) > 0 THEN coalesce(m.benefit_pv_gbp, 0.0) / m.cost_pv_gbp END AS bcr,
        CAST(e.evidence_sms AS INTEGER) AS evidence_sms,
        att.attainment,
        CAST(coalesce(att.outcomes_measured, 0) AS INTEGER) AS outcomes_measured,
        att.consistency,
        dl.spend_variance,
        CAST(rt.returns_expected AS INTEGER) AS returns_expected,
        CAST(rt.returns_received AS INTEGER) AS returns_received,
        CASE WHEN rt.returns_expected > 0
             THEN CAST(rt.returns_received AS DOUBLE) / rt.returns_expected
             ELSE 0.0 END AS returns_share
    FROM registered AS r
    LEFT JOIN money AS m USING (project_id)
    LEFT JOIN evidence AS e USING (project_id)
    LEFT JOIN attainment AS att USING (project_id)
    LEFT JOIN delivery AS dl USING (project_id)
    LEFT JOIN departments AS dp USING (project_id)
    LEFT JOIN returns AS rt USING (project_id)
),

-- DESIGN.md "Per project": the six component scores, each 0-100 before weighting.
scored AS (
    SELECT
        ms.*,
        -- received / expected of two whole numbers is already the double nearest the exact
        -- share, as the threshold is; the rounding keeps the rule one rule, not a fix
        CASE WHEN round(ms.returns_share, 9) < p.returns_red_below THEN 'red' ELSE 'green' END AS data_quality,
        -- E: SMS 1..5 -> sms_scores; none -> 0
        coalesce(p.sms_scores[ms.evidence_sms], 0.0) AS score_evidence,
        -- V: index 1 + number of thresholds ≤ bcr into vfm_scores; null -> 0
        CASE WHEN ms.bcr IS NULL THEN 0.0
             ELSE coalesce(p.vfm_scores[1 + len(list_filter(p.vfm_thresholds, lambda t: t <= round(ms.bcr, 9)))], 0.0)
        END AS score_value,
        -- A = 100 × min(attainment, 1); none -> 0
        CASE WHEN ms.attainment IS NULL THEN 0.0 ELSE 100 * least(ms.attainment, 1.0) END AS score_attainment,
        -- C = 100 × share ≥ threshold; none -> 0
        coalesce(100 * ms.consistency, 0.0) AS score_consistency,
        -- D: 100 within tolerance (decided at 9 dp), then falling linearly to 0; no plan -> 0
        CASE WHEN ms.spend_variance IS NULL THEN 0.0
             WHEN round(abs(ms.spend_variance), 9) <= p.variance_tolerance THEN 100.0
             ELSE coalesce(100 * greatest(0.0, 1 - (abs(ms.spend_variance) - p.variance_tolerance)
                                                   / NULLIF(p.variance_slope, 0)), 0.0)
        END AS score_delivery,
        -- J = 100 × min(n − 1, max) / max
        coalesce(100.0 * least(ms.departments - 1, p.joinup_max_extra_departments)
                 / NULLIF(p.joinup_max_extra_departments, 0), 0.0) AS score_joinup
    FROM measures AS ms
    CROSS JOIN params AS p
),

weighted AS (
    SELECT
        s.*,
        round(round(p.weight_evidence * s.score_evidence
                  + p.weight_value * s.score_value
                  + p.weight_attainment * s.score_attainment
                  + p.weight_consistency * s.score_consistency
                  + p.weight_delivery * s.score_delivery
                  + p.weight_joinup * s.score_joinup, 9), 1) AS score,
        -- DESIGN.md "Gates"
        coalesce(s.evidence_sms >= p.gate_min_sms, false) AS gate_evidence,
        coalesce(round(s.bcr, 9) >= p.gate_min_bcr, false) AS gate_value,
        round(s.returns_share, 9) >= p.returns_red_below AS gate_data_quality
    FROM scored AS s
    CROSS JOIN params AS p
),

-- reasons, part 2: the two largest weighted components (interpretation 9 above).
components AS (
    SELECT project_id, 1 AS ord, 'evidence' AS component,
           p.weight_evidence * score_evidence AS weighted,
           'SMS ' || evidence_sms AS detail
    FROM weighted CROSS JOIN params AS p
    UNION ALL
    SELECT project_id, 2, 'value for money', p.weight_value * score_value,
           'bcr ' || regexp_replace(printf('%.2f', bcr), '\.?0+$', '')
    FROM weighted CROSS JOIN params AS p
    UNION ALL
    SELECT project_id, 3, 'attainment', p.weight_attainment * score_attainment,
           'attainment ' || CAST(round(100 * attainment) AS BIGINT) || '%'
    FROM weighted CROSS JOIN params AS p
    UNION ALL
    SELECT project_id, 4, 'consistency', p.weight_consistency * score_consistency,
           'consistency ' || CAST(round(100 * consistency) AS BIGINT) || '%'
    FROM weighted CROSS JOIN params AS p
    UNION ALL
    SELECT project_id, 5, 'delivery', p.weight_delivery * score_delivery,
           'variance ' || printf('%+d', CAST(round(100 * spend_variance) AS BIGINT)) || '%'
    FROM weighted CROSS JOIN params AS p
    UNION ALL
    SELECT project_id, 6, 'join-up', p.weight_joinup * score_joinup,
           departments || CASE WHEN departments = 1 THEN ' department' ELSE ' departments' END
    FROM weighted CROSS JOIN params AS p
),
strongest AS (
    SELECT
        project_id,
        'strongest: ' || string_agg(component || ' (' || detail || ')', ', ' ORDER BY rn) AS strongest
    FROM (
        SELECT
            *,
            row_number() OVER (PARTITION BY project_id ORDER BY round(weighted, 9) DESC, ord) AS rn
        FROM components
        WHERE round(weighted, 9) > 0
    )
    WHERE rn <= 2
    GROUP BY project_id
)

SELECT
    w.project_id,
    w.project_name,
    w.sof_round,
    w.lead_department,
    w.policy_area,
    w.delivery_model,
    w.start_date,
    w.end_date,
    w.departments,
    w.departments_band,
    w.first_financial_year,
    w.cost_nominal_gbp,
    w.cost_pv_gbp,
    w.benefit_pv_gbp,
    w.bcr,
    w.evidence_sms,
    w.attainment,
    w.outcomes_measured,
    w.spend_variance,
    w.returns_expected,
    w.returns_received,
    w.returns_share,
    w.data_quality,
    w.score_evidence,
    w.score_value,
    w.score_attainment,
    w.score_consistency,
    w.score_delivery,
    w.score_joinup,
    w.score,
    w.gate_evidence,
    w.gate_value,
    w.gate_data_quality,
    -- DESIGN.md "band", decided on the rounded score
    CASE WHEN w.score >= p.band_scale_up_min AND w.gate_evidence AND w.gate_value AND w.gate_data_quality
             THEN 'scale_up'
         WHEN w.score >= p.band_extend_min THEN 'extend_and_evaluate'
         ELSE 'stop_and_learn'
    END AS band,
    concat_ws('; ',
        CASE WHEN NOT w.gate_evidence THEN
            'gate failed: no impact result at SMS ≥ ' || p.gate_min_sms
            || CASE WHEN w.evidence_sms IS NOT NULL THEN ' (best SMS ' || w.evidence_sms || ')' ELSE '' END
        END,
        CASE WHEN NOT w.gate_value THEN
            CASE WHEN w.bcr IS NULL THEN 'gate failed: no bcr (cost ≤ 0)'
                 ELSE 'gate failed: bcr '
                      || regexp_replace(printf('%.2f', floor(round(round(w.bcr, 9) * 100, 7)) / 100), '\.?0+$', '')
                      || ' < ' || regexp_replace(printf('%.2f', p.gate_min_bcr), '\.?0+$', '')
            END
        END,
        CASE WHEN NOT w.gate_data_quality THEN
            'gate failed: returns ' || CAST(floor(round(100 * round(w.returns_share, 9), 7)) AS BIGINT) || '%'
            || ' < ' || CAST(round(100 * p.returns_red_below) AS BIGINT) || '%'
        END,
        st.strongest
    ) AS reasons,
    a.fy AS as_of_financial_year,
    CAST(a.period AS INTEGER) AS as_of_period
FROM weighted AS w
CROSS JOIN params AS p
CROSS JOIN as_of AS a
LEFT JOIN strongest AS st USING (project_id)
ORDER BY w.project_id;
