-- restates: lessons
-- lessons: every lesson as it stands now (the restatement rule of 010_projects.sql).
-- Natural key: project_id, lesson_id, one row per key: where the latest file carries a key
-- twice, the row on its later source line stands, so a repeated line does not count as two
-- lessons. The warn test lessons_duplicate_key lists such keys.
CREATE OR REPLACE TABLE lessons AS
SELECT *
FROM raw_lessons
QUALIFY row_number() OVER (
    PARTITION BY project_id, lesson_id
    ORDER BY _arrival DESC, _file_sha256 DESC, _source_line DESC
) = 1
ORDER BY project_id, lesson_id, _arrival, _source_line;
