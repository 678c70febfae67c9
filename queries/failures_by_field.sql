-- One row per error, not per record: a record that breaks two fields counts for both.
SELECT coalesce(q.type, '(unknown)') AS type,
       q.v,
       e.path AS path,
       e.keyword AS keyword,
       count(*) AS failures,
       min(e.message) AS example
FROM quarantine q
CROSS JOIN UNNEST(q.errors) AS u(e)
WHERE q.dt BETWEEN $period_from AND $period_to
GROUP BY 1, 2, 3, 4
ORDER BY failures DESC, type, path, keyword
