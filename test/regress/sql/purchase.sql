-- purchase_number, confirm_purchase, fail_purchase: reserve, then settle.
\set carol '''00000000-0000-0000-0000-0000000ca201'''
\set dave  '''00000000-0000-0000-0000-0000000da7e0'''
SELECT count(number_wallet.wallet_credit(u, 100, c))
  FROM (VALUES (:carol::uuid, 'USD'), (:carol::uuid, 'INR'), (:dave::uuid, 'USD')) v(u, c);

-- Reserve: the number is pending and the wallet is debited at once.
SELECT number_wallet.purchase_number(:carol, '+14155550100', 8, 'USD', 'Sales line') AS p1 \gset
SELECT :'p1'::jsonb - 'number_id' - 'transaction_id' AS reserved;
SELECT phone_number, display_name, status, is_active, monthly_cost, currency, provider, twilio_sid, purchase_date
  FROM number_wallet.business_numbers WHERE id = (:'p1'::jsonb->>'number_id')::uuid;
SELECT type, kind, amount, currency, balance_after, description, number_id = (:'p1'::jsonb->>'number_id')::uuid AS for_number
  FROM number_wallet.transactions WHERE id = (:'p1'::jsonb->>'transaction_id')::bigint;

-- Confirm: pending -> active, with sid, purchase date, paid_until one month on, window snapshot.
SELECT number_wallet.confirm_purchase((:'p1'::jsonb->>'number_id')::uuid, 'PN00000000000000000000000000000001') AS c1 \gset
SELECT :'c1'::jsonb->>'status' AS status, :'c1'::jsonb->>'twilio_sid' AS sid, :'c1'::jsonb->>'replayed' AS replayed,
       (:'c1'::jsonb->>'paid_until')::timestamptz = (:'c1'::jsonb->>'purchase_date')::timestamptz + interval '1 month' AS one_month,
       :'c1'::jsonb->>'purchase_date' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$' AS rfc3339_utc;
SELECT status, is_active, refund_window_days, purchase_date IS NOT NULL AS dated
  FROM number_wallet.business_numbers WHERE id = (:'p1'::jsonb->>'number_id')::uuid;
-- A repeated confirm with the same sid replays; another sid is NW004.
SELECT (number_wallet.confirm_purchase((:'p1'::jsonb->>'number_id')::uuid, 'PN00000000000000000000000000000001') - 'number_id') = (:'c1'::jsonb - 'number_id' - 'replayed' || '{"replayed": true}') AS same_answer_replayed;
SELECT nw_try(format('SELECT number_wallet.confirm_purchase(%L, %L)', :'p1'::jsonb->>'number_id', 'PN99'));

-- A held number cannot be reserved again, by anyone (NW002), and changes nothing.
SELECT nw_money_state() AS before \gset
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000da7e0', '+14155550100', 8)$$);
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550100', 8)$$);
SELECT nw_money_state() = :'before' AS nothing_changed;

-- Insufficient balance (NW001): too little, or no wallet at all; held beats funds.
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000da7e0', '+14155550101', 100.01)$$);
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-00000000f00d', '+14155550101', 1)$$);
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000da7e0', '+14155550100', 1000)$$);
-- The exact balance is enough.
SELECT (number_wallet.purchase_number(:dave, '+14155550102', 100))->>'balance_after' AS exactly_spent;
SELECT nw_money_state() AS before \gset

-- Currencies are apart: an INR number is paid from the INR balance.
SELECT number_wallet.purchase_number(:carol, '+919876543210', 99.99, 'INR') AS p_inr \gset
SELECT :'p_inr'::jsonb->>'currency' AS currency, :'p_inr'::jsonb->>'balance_after' AS inr_after,
       (SELECT balance_usd FROM number_wallet.wallets WHERE user_id = :carol) AS usd_untouched;

-- Fail: pending -> failed; the full amount comes back as one reversal.
SELECT number_wallet.fail_purchase((:'p_inr'::jsonb->>'number_id')::uuid, 'Twilio 21422: number not available') AS f1 \gset
SELECT :'f1'::jsonb - 'number_id' AS failed;
SELECT status, is_active, failure_reason FROM number_wallet.business_numbers WHERE id = (:'p_inr'::jsonb->>'number_id')::uuid;
-- A repeat, whatever its reason, is a replay that refunds nothing more.
SELECT (number_wallet.fail_purchase((:'p_inr'::jsonb->>'number_id')::uuid, 'another reason')) - 'number_id' AS replay;
SELECT kind, amount, currency, balance_after, description FROM number_wallet.transactions
 WHERE number_id = (:'p_inr'::jsonb->>'number_id')::uuid ORDER BY id;
-- A failed number is free again.
SELECT (number_wallet.purchase_number(:carol, '+919876543210', 99.99, 'INR'))->>'status' AS rebought;
-- A NULL reason means the default text.
SELECT number_wallet.purchase_number(:carol, '+14155550103', 1) AS p3 \gset
SELECT (number_wallet.fail_purchase((:'p3'::jsonb->>'number_id')::uuid, NULL))->>'refunded' AS refunded;
SELECT failure_reason FROM number_wallet.business_numbers WHERE id = (:'p3'::jsonb->>'number_id')::uuid;

-- The state machine refuses every other move (NW004) and unknown numbers (NW003).
SELECT nw_try(format('SELECT number_wallet.fail_purchase(%L, ''late'')', :'p1'::jsonb->>'number_id')) AS fail_active;
SELECT nw_try(format('SELECT number_wallet.confirm_purchase(%L, ''PN0000000000000000000000000000000f'')', :'p3'::jsonb->>'number_id')) AS confirm_failed;
SELECT nw_try($$SELECT number_wallet.confirm_purchase('00000000-0000-0000-0000-000000000000', 'PN1')$$) AS confirm_unknown;
SELECT nw_try($$SELECT number_wallet.fail_purchase('00000000-0000-0000-0000-000000000000', 'x')$$) AS fail_unknown;
-- A sid already on another row is NW004.
SELECT number_wallet.purchase_number(:carol, '+14155550104', 1) AS p4 \gset
SELECT nw_try(format('SELECT number_wallet.confirm_purchase(%L, ''PN00000000000000000000000000000001'')', :'p4'::jsonb->>'number_id')) AS sid_taken;

-- Idempotent purchases: same key, number and currency replay the original entry.
SELECT (number_wallet.wallet_credit(:dave, 10))->>'balance';
SELECT number_wallet.purchase_number(:dave, '+14155550105', 2.5, 'USD', NULL, 'buy-1') AS k1 \gset
SELECT number_wallet.purchase_number(:dave, '+14155550105', 2.5, 'USD', 'other name', 'buy-1') AS k2 \gset
SELECT :'k2'::jsonb->>'replayed' AS replayed, (:'k1'::jsonb - 'replayed') = (:'k2'::jsonb - 'replayed') AS same_original;
SELECT count(*) AS purchase_entries FROM number_wallet.transactions WHERE number_id = (:'k1'::jsonb->>'number_id')::uuid;
-- The replay reports the number's current status.
SELECT number_wallet.confirm_purchase((:'k1'::jsonb->>'number_id')::uuid, 'PN00000000000000000000000000000005') IS NOT NULL;
SELECT (number_wallet.purchase_number(:dave, '+14155550105', 2.5, 'USD', NULL, 'buy-1'))->>'status' AS status_now;
-- Same key, other number or currency: NW006.
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000da7e0', '+14155550106', 2.5, 'USD', NULL, 'buy-1')$$);
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000da7e0', '+14155550105', 2.5, 'INR', NULL, 'buy-1')$$);

-- The per-user rate limit (NW005), counted over a rolling hour.
SET number_wallet.max_purchases_per_hour = 3;
SELECT count(*) AS dave_rows_this_hour FROM number_wallet.business_numbers
 WHERE user_id = :dave AND created_at > now() - interval '1 hour';
UPDATE number_wallet.business_numbers SET created_at = now() - interval '50 minutes' WHERE user_id = :dave;
SELECT (number_wallet.purchase_number(:dave, '+14155550107', 1))->>'status';
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000da7e0', '+14155550108', 1)$$) AS limited;
-- A replay is answered before the limit.
SELECT (number_wallet.purchase_number(:dave, '+14155550105', 2.5, 'USD', NULL, 'buy-1'))->>'replayed' AS replay_allowed;
-- Rows older than an hour no longer count; 0 means unlimited.
UPDATE number_wallet.business_numbers SET created_at = now() - interval '61 minutes' WHERE user_id = :dave;
SELECT (number_wallet.purchase_number(:dave, '+14155550108', 1))->>'status' AS after_the_hour;
SET number_wallet.max_purchases_per_hour = 0;
SELECT count(number_wallet.purchase_number(:dave, '+1415555020' || g, 0.01)) FROM generate_series(0, 4) g;
RESET number_wallet.max_purchases_per_hour;

-- Bad input is 22023 and changes nothing.
SELECT nw_money_state() AS before \gset
SELECT nw_try(sql) FROM (VALUES
  ($$SELECT number_wallet.purchase_number(NULL, '+14155550199', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', NULL, 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', NULL)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 'NaN')$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', -8)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 0)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 8.001)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 1, 'GBP')$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 1, NULL)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '14155550199', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+04155550199', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+1415555', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+1234567890123456', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+1 415 555 0199', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199''; DROP TABLE number_wallet.wallets; --', 1)$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 1, 'USD', repeat('n', 65))$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 1, 'USD', E'bad\nname')$$),
  ($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-0000000ca201', '+14155550199', 1, 'USD', NULL, repeat('k', 256))$$),
  ($$SELECT number_wallet.confirm_purchase(NULL, 'PN1')$$),
  ($$SELECT number_wallet.confirm_purchase('00000000-0000-0000-0000-000000000000', NULL)$$),
  ($$SELECT number_wallet.confirm_purchase('00000000-0000-0000-0000-000000000000', 'PN 1; --')$$),
  ($$SELECT number_wallet.fail_purchase(NULL, 'x')$$),
  ($$SELECT number_wallet.fail_purchase('00000000-0000-0000-0000-000000000000', repeat('r', 1001))$$)
) AS t(sql);
SELECT nw_money_state() = :'before' AS nothing_changed;
-- 64 characters of display name are fine (and multibyte characters count once).
SELECT (number_wallet.purchase_number(:carol, '+14155550199', 1, 'USD', repeat('é', 64)))->>'status';

SELECT * FROM number_wallet.wallet_reconcile();
