-- since_last: the batches since the last published warehouse: this one and any that took files in
-- but published nothing (cancelled, failed, stopped, checks failed, reread), so that every
-- file reaches a page the first time a warehouse holds it.
-- Made once as a temporary view before the report queries that read it (batch, files).
CREATE OR REPLACE TEMP VIEW since_last AS
SELECT r.batch_id, r.files_new, r.files_duplicate, r.files_rejected, r.files_quarantined,
       r.rows_read, r.rows_accepted, r.rows_rejected
FROM _runs AS r, (SELECT started_at FROM _runs WHERE batch_id = (SELECT batch_id FROM _build)) AS this
WHERE r.batch_id = (SELECT batch_id FROM _build)
   OR (r.started_at < this.started_at AND r.started_at > coalesce((
        SELECT max(p.started_at) FROM _runs AS p
        WHERE p.status IN ('published', 'rolled_back') AND p.started_at < this.started_at
      ), '-infinity'::TIMESTAMPTZ));
