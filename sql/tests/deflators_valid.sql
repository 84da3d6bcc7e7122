-- severity: error
-- Guards DESIGN.md "Money": exactly one positive index per financial year. Two current rows
-- for a year (one file listing it twice) would double the money of that year in the real-terms
-- join; an index of 0 or less would divide by zero or flip the sign.
SELECT financial_year, count(*) AS rows, min("index") AS min_index, max("index") AS max_index
FROM gdp_deflators
GROUP BY financial_year
HAVING count(*) > 1 OR min("index") <= 0
ORDER BY financial_year;
