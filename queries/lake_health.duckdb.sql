-- lake_objects is the local engine's listing of every table object (Athena reads "$path"/"$file_size" instead).
SELECT table_name,
       partition,
       count(*) AS objects,
       count_if(format = 'parquet') AS parquet_objects,
       sum(bytes) AS bytes,
       count_if(bytes < $small_kb * 1024) AS small_objects
FROM lake_objects
WHERE dt BETWEEN $period_from AND $period_to
GROUP BY table_name, partition
ORDER BY table_name, partition
