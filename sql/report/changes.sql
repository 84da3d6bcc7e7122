-- What changed since the last published batch: band_changes as built.
SELECT project_id, project_name, previous_batch_id, batch_id, coalesce(previous_band, ''),
       coalesce(band, ''), previous_score, score, change
FROM band_changes
ORDER BY CASE change WHEN 'band' THEN 1 WHEN 'new' THEN 2 WHEN 'removed' THEN 3 ELSE 4 END, project_id
