-- Both engines: is_fraud is 0/1, so its average is the fraud rate.
SELECT dt AS day,
       category,
       count(*) AS transactions,
       sum(is_fraud) AS fraud_transactions,
       round(avg(is_fraud), 4) AS fraud_rate,
       round(sum(amt), 2) AS amount,
       round(sum(CASE WHEN is_fraud = 1 THEN amt ELSE 0 END), 2) AS fraud_amount
FROM transactions
WHERE dt BETWEEN $period_from AND $period_to
GROUP BY dt, category
ORDER BY dt, category
