-- The data tests and their results.
SELECT name, severity, status, rows
FROM _checks
ORDER BY CASE status WHEN 'fail' THEN 1 WHEN 'warn' THEN 2 ELSE 3 END, name
