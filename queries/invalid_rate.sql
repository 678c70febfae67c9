-- Accepted events are counted by the hour they were received, like quarantined ones; the dt filters keep the scan
-- to the period (events are assumed to arrive on the day they happen).
WITH accepted AS (
  SELECT 'transactions' AS type, date_trunc('hour', received_at) AS hour_start, count(*) AS n
  FROM transactions WHERE dt BETWEEN $period_from AND $period_to GROUP BY 2
  UNION ALL
  SELECT 'taxi_trips', date_trunc('hour', received_at), count(*)
  FROM taxi_trips WHERE dt BETWEEN $period_from AND $period_to GROUP BY 2
  UNION ALL
  SELECT 'clickstream', date_trunc('hour', received_at), count(*)
  FROM clickstream WHERE dt BETWEEN $period_from AND $period_to GROUP BY 2
),
rejected AS (
  SELECT coalesce(type, '(unknown)') AS type, reason, date_trunc('hour', received_at) AS hour_start, count(*) AS n
  FROM quarantine
  WHERE dt BETWEEN $period_from AND $period_to AND stage = 'ingest'
  GROUP BY 1, 2, 3
)
SELECT r.hour_start,
       r.type,
       r.reason,
       r.n AS invalid,
       coalesce(a.n, 0) AS accepted,
       round(r.n * 1.0E0 / (coalesce(a.n, 0) + sum(r.n) OVER (PARTITION BY r.type, r.hour_start)), 4) AS invalid_rate
FROM rejected r
LEFT JOIN accepted a ON a.type = r.type AND a.hour_start = r.hour_start
ORDER BY r.hour_start, r.type, r.reason
