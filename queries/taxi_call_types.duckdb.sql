SELECT dt AS day,
       hour,
       call_type,
       count(*) AS trips,
       round(avg(greatest(CAST(json_array_length(polyline) AS BIGINT) - 1, 0) * 15), 1) AS avg_duration_s
FROM taxi_trips
WHERE dt BETWEEN $period_from AND $period_to
GROUP BY dt, hour, call_type
ORDER BY dt, hour, call_type
