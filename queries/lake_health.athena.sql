-- Athena has no object listing in SQL: the "$path" and "$file_size" pseudo-columns of the raw and compacted tables
-- give the same figures (this reads the objects, so keep the period short).
WITH lake_objects AS (
  SELECT 'transactions' AS table_name, 'jsonl' AS format, "$path" AS key, regexp_extract("$path", '/(dt=.*)/[^/]+$', 1) AS partition, max("$file_size") AS bytes
  FROM transactions_raw WHERE dt BETWEEN $period_from AND $period_to GROUP BY 3, 4
  UNION ALL
  SELECT 'transactions' AS table_name, 'parquet' AS format, "$path" AS key, regexp_extract("$path", '/(dt=.*)/[^/]+$', 1) AS partition, max("$file_size") AS bytes
  FROM transactions_compacted WHERE dt BETWEEN $period_from AND $period_to GROUP BY 3, 4
  UNION ALL
  SELECT 'taxi_trips' AS table_name, 'jsonl' AS format, "$path" AS key, regexp_extract("$path", '/(dt=.*)/[^/]+$', 1) AS partition, max("$file_size") AS bytes
  FROM taxi_trips_raw WHERE dt BETWEEN $period_from AND $period_to GROUP BY 3, 4
  UNION ALL
  SELECT 'taxi_trips' AS table_name, 'parquet' AS format, "$path" AS key, regexp_extract("$path", '/(dt=.*)/[^/]+$', 1) AS partition, max("$file_size") AS bytes
  FROM taxi_trips_compacted WHERE dt BETWEEN $period_from AND $period_to GROUP BY 3, 4
  UNION ALL
  SELECT 'clickstream' AS table_name, 'jsonl' AS format, "$path" AS key, regexp_extract("$path", '/(dt=.*)/[^/]+$', 1) AS partition, max("$file_size") AS bytes
  FROM clickstream_raw WHERE dt BETWEEN $period_from AND $period_to GROUP BY 3, 4
  UNION ALL
  SELECT 'clickstream' AS table_name, 'parquet' AS format, "$path" AS key, regexp_extract("$path", '/(dt=.*)/[^/]+$', 1) AS partition, max("$file_size") AS bytes
  FROM clickstream_compacted WHERE dt BETWEEN $period_from AND $period_to GROUP BY 3, 4
)
SELECT table_name,
       partition,
       count(*) AS objects,
       count_if(format = 'parquet') AS parquet_objects,
       sum(bytes) AS bytes,
       count_if(bytes < $small_kb * 1024) AS small_objects
FROM lake_objects
GROUP BY table_name, partition
ORDER BY table_name, partition
