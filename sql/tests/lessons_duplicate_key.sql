-- severity: warn
-- The latest file for a lesson (project_id, lesson_id) carried it more than once. The
-- lessons model keeps only the row on the later source line; the others are in raw_lessons.
WITH latest AS (
    SELECT *
    FROM raw_lessons
    QUALIFY dense_rank() OVER (
        PARTITION BY project_id, lesson_id
        ORDER BY _arrival DESC, _file_sha256 DESC
    ) = 1
)
SELECT project_id, lesson_id, count(*) AS rows, list(_source_line ORDER BY _source_line) AS source_lines,
       any_value(_file_sha256) AS file_sha256
FROM latest
GROUP BY project_id, lesson_id
HAVING count(*) > 1
ORDER BY project_id, lesson_id;
