-- Trino's json_array_length takes JSON, so the POLYLINE text is parsed first.
SELECT dt AS day,
       hour,
       call_type,
       count(*) AS trips,
       round(avg(greatest(json_array_length(json_parse(polyline)) - 1, 0) * 15), 1) AS avg_duration_s
FROM taxi_trips
WHERE dt BETWEEN $period_from AND $period_to
GROUP BY dt, hour, call_type
ORDER BY dt, hour, call_type
