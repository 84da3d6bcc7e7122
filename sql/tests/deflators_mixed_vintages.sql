-- severity: warn
-- The deflators in use come from more than one file (vintage). HM Treasury rebases the
-- series between vintages, so years taken from an older vintage beside years from a newer
-- one can put real terms on two different bases. Deliver each new vintage whole (every
-- year), or check that the vintages share a base year. Lists each file still in use and
-- the years it supplies.
WITH used AS (
    SELECT _file_sha256, any_value(vintage) AS vintage, any_value(source) AS source,
           list(financial_year ORDER BY financial_year) AS years
    FROM gdp_deflators
    GROUP BY _file_sha256
)
SELECT u.vintage, u.source, u.years, f.source_path
FROM used u
JOIN _files f ON f.file_sha256 = u._file_sha256
WHERE (SELECT count(*) FROM used) > 1
ORDER BY f.arrival;
