-- restates: gdp_deflators
-- gdp_deflators: one index per financial year, the newest vintage delivered (the restatement
-- rule of 010_projects.sql; DESIGN.md "gdp_deflators": a newer vintage supersedes the older).
-- A newer file that lists only some years supersedes just those years. Two rows for one year
-- in the same file would double count in real terms: the data test deflators_valid stops
-- the publish then.
CREATE OR REPLACE TABLE gdp_deflators AS
SELECT *
FROM raw_gdp_deflators
QUALIFY dense_rank() OVER (
    PARTITION BY financial_year
    ORDER BY _arrival DESC, _file_sha256 DESC
) = 1
ORDER BY financial_year, _arrival, _source_line;
