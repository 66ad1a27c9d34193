-- Billing periods (docs/sql-api.md): computed in UTC whatever the session's TimeZone,
-- anchored to the day of the month of the purchase: bought on Jan 31 -> paid
-- until Feb 28 (29 in a leap year) -> Mar 31 -> Apr 30 -> May 31.
\set ida '''00000000-0000-0000-0000-0000000001da'''
SELECT count(*) AS due_before FROM number_wallet.business_numbers WHERE status = 'active' AND paid_until <= now();
SELECT (number_wallet.wallet_credit(:ida, 100))->>'balance' AS ida;

-- confirm_purchase: the first period ends a month after the purchase in UTC.
-- This zone (3 hours behind UTC) starts daylight saving time two to four
-- days from now, so a month added in the session's zone would end an hour early.
SELECT format('NWT3NWST,J%s/0,J%s/0', s, (s + 59) % 365 + 1) AS dst_zone
  FROM (SELECT (extract(doy FROM now() AT TIME ZONE 'UTC')::int + 2) % 365 + 1 AS s) x \gset
SET TimeZone = :'dst_zone';
SELECT nw_bought(:ida, '+12125550001', 1, 'PN21200000000000000000000000000001') AS n1 \gset
SELECT paid_until = ((purchase_date AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC' AS month_in_utc,
       to_char(purchase_date, 'TZH') <> to_char(paid_until, 'TZH') AS zone_offset_changed
  FROM number_wallet.business_numbers WHERE id = :'n1';
-- The same in zones far from UTC, on both sides.
SET TimeZone = 'Pacific/Kiritimati';
SELECT nw_bought(:ida, '+12125550002', 1, 'PN21200000000000000000000000000002') AS n2 \gset
SET TimeZone = 'Pacific/Pago_Pago';
SELECT nw_bought(:ida, '+12125550003', 1, 'PN21200000000000000000000000000003') AS n3 \gset
SELECT count(*) FILTER (WHERE paid_until = ((purchase_date AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC')
       AS months_in_utc
  FROM number_wallet.business_numbers WHERE id IN (:'n1', :'n2', :'n3');

-- Renewal chains. purchase_date and the first paid_until are set as
-- confirm_purchase sets them (purchase + 1 month in UTC); each pass renews
-- one period (the dates are in the past, so every period is due at once).
CREATE FUNCTION pg_temp.bought_at(p_id uuid, p_at timestamptz) RETURNS void LANGUAGE sql AS $$
  UPDATE number_wallet.business_numbers
     SET purchase_date = p_at, paid_until = ((p_at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
   WHERE id = p_id
$$;
CREATE FUNCTION pg_temp.paid_until(p_id uuid) RETURNS text LANGUAGE sql AS $$
  SELECT to_char(paid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM number_wallet.business_numbers WHERE id = p_id
$$;
-- n1: Jan 31 2023 10:00 UTC, renewed in New York (DST from Mar 12 2023).
-- n2: Jan 31 2024 23:30 UTC (a leap year), renewed in Kolkata (UTC+5:30: already Feb 1 there).
-- n3: Jan 30 2023 20:00 UTC, renewed in Kiritimati (UTC+14: already Jan 31 there).
SELECT pg_temp.bought_at(:'n1', '2023-01-31 10:00+00'), pg_temp.bought_at(:'n2', '2024-01-31 23:30+00'),
       pg_temp.bought_at(:'n3', '2023-01-30 20:00+00');
CREATE TEMP TABLE chain (pass int, n1 text, n2 text, n3 text);
INSERT INTO chain VALUES (0, pg_temp.paid_until(:'n1'), pg_temp.paid_until(:'n2'), pg_temp.paid_until(:'n3'));
SET TimeZone = 'America/New_York';
SELECT number_wallet.renew_due_numbers() AS pass_1;
INSERT INTO chain VALUES (1, pg_temp.paid_until(:'n1'), pg_temp.paid_until(:'n2'), pg_temp.paid_until(:'n3'));
SET TimeZone = 'Asia/Kolkata';
SELECT number_wallet.renew_due_numbers() AS pass_2;
INSERT INTO chain VALUES (2, pg_temp.paid_until(:'n1'), pg_temp.paid_until(:'n2'), pg_temp.paid_until(:'n3'));
SET TimeZone = 'Pacific/Kiritimati';
SELECT number_wallet.renew_due_numbers() AS pass_3;
INSERT INTO chain VALUES (3, pg_temp.paid_until(:'n1'), pg_temp.paid_until(:'n2'), pg_temp.paid_until(:'n3'));
SET TimeZone = 'America/New_York';
SELECT number_wallet.renew_due_numbers() AS pass_4;
INSERT INTO chain VALUES (4, pg_temp.paid_until(:'n1'), pg_temp.paid_until(:'n2'), pg_temp.paid_until(:'n3'));
SELECT * FROM chain ORDER BY pass;
-- Each renewal entry names the period it starts from, in UTC.
SELECT string_agg(right(description, 20), ', ' ORDER BY id) AS n1_renewals
  FROM number_wallet.transactions WHERE number_id = :'n1' AND kind = 'renewal';

-- A paid_until that drifted under an older version (Jan 31 -> Feb 28 -> Mar 28)
-- goes back on its anchor at the next renewal.
UPDATE number_wallet.business_numbers SET paid_until = '2023-03-28 10:00+00' WHERE id = :'n1';
SELECT number_wallet.renew_due_numbers() AS drifted;
SELECT pg_temp.paid_until(:'n1') AS n1_back_on_anchor;

-- Leave nothing due behind.
RESET TimeZone;
SELECT count(*) AS released FROM number_wallet.business_numbers n, LATERAL number_wallet.release_number(n.user_id, n.id) r
 WHERE n.user_id = :ida AND n.status = 'active';
SELECT count(*) AS due_after FROM number_wallet.business_numbers WHERE status = 'active' AND paid_until <= now();
SELECT * FROM number_wallet.wallet_reconcile();
