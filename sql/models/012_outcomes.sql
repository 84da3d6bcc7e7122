-- outcomes: every outcome measurement as it stands now (the restatement rule of
-- 010_projects.sql). Natural key: project_id, outcome_id, period_end.
CREATE OR REPLACE TABLE outcomes AS
SELECT *
FROM raw_outcomes
QUALIFY dense_rank() OVER (
    PARTITION BY project_id, outcome_id, period_end
    ORDER BY _arrival DESC, _file_sha256 DESC
) = 1
ORDER BY project_id, outcome_id, period_end, _arrival, _source_line;
