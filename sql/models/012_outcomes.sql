-- restates: outcomes
-- outcomes: every outcome measurement as it stands now (the restatement rule of
-- 010_projects.sql). Natural key: project_id, outcome_id, period_end — the grain DESIGN.md
-- gives, so exactly one row per key: where the latest file carries a key twice, the row on
-- its later source line stands (the department's last word), and its benefit_gbp is not
-- counted twice. The warn test outcomes_duplicate_measurement lists such keys.
CREATE OR REPLACE TABLE outcomes AS
SELECT *
FROM raw_outcomes
QUALIFY row_number() OVER (
    PARTITION BY project_id, outcome_id, period_end
    ORDER BY _arrival DESC, _file_sha256 DESC, _source_line DESC
) = 1
ORDER BY project_id, outcome_id, period_end, _arrival, _source_line;
