-- renew_due_numbers frees each number's result sets before the next one: a
-- pass over 3000 numbers raises the backend's peak memory (VmHWM, Linux) by
-- far less than the ~35 kB per number it took when every result set was kept
-- to the end of the pass (about 50 MB here). bench/renewal_memory.sh does the
-- same with 20000 numbers.
\set mia '''00000000-0000-0000-0000-000000000314'''
SELECT count(*) AS due_before FROM number_wallet.business_numbers WHERE status = 'active' AND paid_until <= now();
SET number_wallet.max_purchases_per_hour = 0;
SELECT (number_wallet.wallet_credit(:mia, 1000))->>'balance' AS mia;
SELECT count(nw_bought(:mia, '+1303' || lpad(g::text, 7, '0'), 0.01, 'PNM' || g)) AS bought FROM generate_series(1, 1500) g;
RESET number_wallet.max_purchases_per_hour;
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 hour' WHERE user_id = :mia;

CREATE FUNCTION pg_temp.peak_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint
$$;
SELECT pg_temp.peak_kb() AS peak_before \gset
SELECT number_wallet.renew_due_numbers(100000) AS pass;
SELECT pg_temp.peak_kb() - :peak_before AS growth_kb \gset
SELECT CASE WHEN :growth_kb < 16 * 1024 THEN 'below 16 MB' ELSE 'grew by ' || :growth_kb || ' kB' END AS peak_growth;

SELECT count(*) AS renewals FROM number_wallet.transactions WHERE user_id = :mia AND kind = 'renewal';
SELECT count(*) AS due_after FROM number_wallet.business_numbers WHERE status = 'active' AND paid_until <= now();
SELECT * FROM number_wallet.wallet_reconcile();
