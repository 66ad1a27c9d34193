-- The rate limit's fast path (1.3): per-hour counters on the wallet row decide
-- when the exact rolling-hour count must run; the answers stay those of the
-- exact rule (NW005 with "Retry after N seconds.").
\set hana '''00000000-0000-0000-0000-0000000a4a11'''
SELECT (number_wallet.wallet_credit(:hana, 100))->>'balance' AS credited;
SET number_wallet.max_purchases_per_hour = 3;

-- Each reservation counts in the current clock hour (UTC), failed ones too (they created a row).
SELECT (number_wallet.purchase_number(:hana, '+14155559400', 1))->>'status' AS first;
SELECT (number_wallet.purchase_number(:hana, '+14155559401', 1))->>'number_id' AS failed_one \gset
SELECT (number_wallet.fail_purchase(:'failed_one', 'refused'))->>'status' AS failed;
SELECT purchases_hour = date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00') AS this_hour,
       purchases_this_hour, purchases_last_hour
  FROM number_wallet.wallets WHERE user_id = :hana;
-- A replay under the same key counts nothing more.
SELECT (number_wallet.purchase_number(:hana, '+14155559402', 1, 'USD', NULL, 'k-402'))->>'replayed' AS third;
SELECT (number_wallet.purchase_number(:hana, '+14155559402', 1, 'USD', NULL, 'k-402'))->>'replayed' AS replay;
SELECT purchases_this_hour FROM number_wallet.wallets WHERE user_id = :hana;
-- At the limit, the exact count decides: NW005, with the time until the oldest leaves the hour.
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000a4a11', '+14155559403', 1)$$)
       ~ '^NW005: purchase rate limit exceeded \| Retry after (3[5-9]\d\d|3600) seconds\.$' AS limited;
SELECT purchases_this_hour FROM number_wallet.wallets WHERE user_id = :hana;

-- The counters only ever overcount, so the exact rule still decides near the
-- limit: rows older than an hour do not count even when the counters say 3.
UPDATE number_wallet.business_numbers SET created_at = created_at - interval '2 hours' WHERE user_id = :hana;
SELECT (number_wallet.purchase_number(:hana, '+14155559404', 1))->>'status' AS after_the_hour;

-- A new clock hour: the current count becomes the previous one.
UPDATE number_wallet.wallets SET purchases_hour = purchases_hour - interval '1 hour' WHERE user_id = :hana;
SELECT (number_wallet.purchase_number(:hana, '+14155559405', 1))->>'status' AS next_hour;
SELECT purchases_this_hour, purchases_last_hour FROM number_wallet.wallets WHERE user_id = :hana;
-- Two hours on: both buckets are stale and start again.
UPDATE number_wallet.wallets SET purchases_hour = purchases_hour - interval '2 hours' WHERE user_id = :hana;
SELECT (number_wallet.purchase_number(:hana, '+14155559406', 1))->>'status' AS two_hours_on;
SELECT purchases_this_hour, purchases_last_hour FROM number_wallet.wallets WHERE user_id = :hana;
-- A bucket later than ours (a transaction that started after us crossed the
-- hour first) is counted whole, never dropped: 3 there reaches the limit, so
-- the exact count runs, and it finds 3 rows in the rolling hour (404 to 406).
UPDATE number_wallet.wallets SET purchases_hour = purchases_hour + interval '1 hour',
       purchases_this_hour = 3, purchases_last_hour = 0 WHERE user_id = :hana;
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000a4a11', '+14155559407', 1)$$)
       ~ '^NW005: purchase rate limit exceeded \| Retry after 3[5-6]\d\d seconds\.$' AS later_bucket_exact_count;
SELECT purchases_hour > now() AS kept_later_hour, purchases_this_hour FROM number_wallet.wallets WHERE user_id = :hana;

-- With no limit the counters are still kept, so turning the limit on is exact at once.
SET number_wallet.max_purchases_per_hour = 0;
SELECT (number_wallet.purchase_number(:hana, '+14155559408', 1))->>'status' AS unlimited;
SELECT purchases_this_hour FROM number_wallet.wallets WHERE user_id = :hana;
RESET number_wallet.max_purchases_per_hour;
SELECT count(*) AS reconcile_rows FROM number_wallet.wallet_reconcile();
