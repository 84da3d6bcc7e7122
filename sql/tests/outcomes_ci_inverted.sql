-- severity: warn
-- A confidence interval with ci_low > ci_high is a keying error (columns swapped or a sign
-- lost). The qualifying-result rule of DESIGN.md "Per project" reads ci_low for higher_better
-- and ci_high for lower_better, so such a row may win or lose the evidence gate by mistake.
SELECT project_id, outcome_id, period_end, direction, evaluation_type, ci_low, ci_high,
       _file_sha256, _source_line
FROM outcomes
WHERE ci_low > ci_high
ORDER BY project_id, outcome_id, period_end;
