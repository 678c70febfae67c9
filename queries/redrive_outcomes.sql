-- One row per job (a discard is a job of its own). "by" and "at" are quoted: both are keywords in SQL.
SELECT job,
       min("by") AS run_by,
       min("at") AS started,
       sum(CASE WHEN outcome = 'accepted' THEN 1 ELSE 0 END) AS accepted,
       sum(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS failed_again,
       sum(CASE WHEN outcome IN ('skipped', 'error') THEN 1 ELSE 0 END) AS skipped,
       sum(CASE WHEN outcome = 'discarded' THEN 1 ELSE 0 END) AS discarded
FROM redrives
WHERE dt BETWEEN $period_from AND $period_to
GROUP BY job
ORDER BY started, job
