-- is_cart_empty arrives as "True"/"False", true/false or 0/1; anything else does not count either way.
SELECT section,
       count(*) AS events,
       count(DISTINCT payload_userid) AS users,
       round(avg(CASE WHEN lower(payload_is_cart_empty) IN ('true', '1') THEN 1.0E0
                      WHEN lower(payload_is_cart_empty) IN ('false', '0') THEN 0.0E0 END), 4) AS cart_empty_rate
FROM clickstream
WHERE dt BETWEEN $period_from AND $period_to
GROUP BY section
ORDER BY events DESC, section
