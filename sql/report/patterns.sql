-- The pattern table (lessons_learned, part 'pattern'), in the mart's order: the dimensions
-- as DESIGN.md lists them, then value.
SELECT dimension, value, projects, median_attainment, share_evidence_sms3,
       median_spend_variance, share_scale_up, mean_returns_share
FROM lessons_learned
WHERE part = 'pattern'
ORDER BY list_position(['policy_area', 'sof_round', 'lead_department', 'departments_band', 'delivery_model'], dimension),
         value
