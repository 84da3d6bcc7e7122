-- lessons: every lesson as it stands now (the restatement rule of 010_projects.sql).
-- Natural key: project_id, lesson_id.
CREATE OR REPLACE TABLE lessons AS
SELECT *
FROM raw_lessons
QUALIFY dense_rank() OVER (
    PARTITION BY project_id, lesson_id
    ORDER BY _arrival DESC, _file_sha256 DESC
) = 1
ORDER BY project_id, lesson_id, _arrival, _source_line;
