-- A rank filter instead of LIMIT ?: Athena does not take an execution parameter in LIMIT.
SELECT rank, merchant, transactions, amount
FROM (
  SELECT merchant,
         count(*) AS transactions,
         round(sum(amt), 2) AS amount,
         row_number() OVER (ORDER BY count(*) DESC, sum(amt) DESC, merchant) AS rank
  FROM transactions
  WHERE dt BETWEEN $period_from AND $period_to
  GROUP BY merchant
) ranked
WHERE rank <= $limit
ORDER BY rank
