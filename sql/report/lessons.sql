-- Lessons by NAO theme and polarity with the latest example (lessons_learned, part
-- 'reported').
SELECT theme, polarity, projects_reporting, lessons, share_of_projects, coalesce(policy_areas, ''),
       coalesce(latest_example, ''), coalesce(latest_example_project, '')
FROM lessons_learned
WHERE part = 'reported'
ORDER BY theme, polarity
