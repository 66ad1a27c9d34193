-- refund_quote, release_number, mark_provider_released: the refund window and
-- the release half of the state machine.
\set erin '''00000000-0000-0000-0000-00000000e714'''
\set frank '''00000000-0000-0000-0000-00000000f4a2'''
SELECT (number_wallet.wallet_credit(:erin, 100))->>'balance', (number_wallet.wallet_credit(:frank, 100))->>'balance';

SELECT nw_bought(:erin, '+14155551000', 8, 'PN10000000000000000000000000000000') AS n1 \gset

-- The refund window boundary, through refund_quote(p_at): exactly 30 days is
-- eligible, 30 days and one second is not; fractions of a second are truncated.
-- (Days are 86400 s: intervals are written in hours so no daylight-saving change moves them.)
SELECT purchase_date AS bought_at FROM number_wallet.business_numbers WHERE id = :'n1' \gset
SELECT label, q->>'eligible' AS eligible, q->>'reason' AS reason, q->>'amount' AS amount, q->>'currency' AS currency,
       q->>'days_since_purchase' AS days, q->>'window_days' AS window_days
  FROM (VALUES ('at purchase', interval '0'), ('29 days', interval '696 hours'),
               ('30 days exactly', interval '720 hours'), ('30 days + 0.999999 s', interval '720 hours 0.999999 seconds'),
               ('30 days + 1 s', interval '720 hours 1 second'), ('90 days', interval '2160 hours')) v(label, d),
       LATERAL number_wallet.refund_quote(:'n1', :'bought_at'::timestamptz + d) q;
-- The default p_at is now.
SELECT (number_wallet.refund_quote(:'n1'))->>'reason' AS now_reason;

-- The window is snapshotted at confirm: a later change of the setting does not move it.
SET number_wallet.refund_window_days = 7;
SELECT (number_wallet.refund_quote(:'n1', :'bought_at'::timestamptz + interval '480 hours'))->>'eligible' AS old_number_still_30;
SELECT nw_bought(:erin, '+14155551001', 5, 'PN10000000000000000000000000000001') AS n7 \gset
SELECT refund_window_days FROM number_wallet.business_numbers WHERE id = :'n7';
SELECT q->>'eligible', q->>'window_days' FROM number_wallet.refund_quote(:'n7', now() + interval '192 hours') q;
RESET number_wallet.refund_window_days;

-- Release within the window: active -> released, the purchase amount refunded once.
SELECT number_wallet.release_number(:erin, :'n1') AS r1 \gset
SELECT :'r1'::jsonb - 'number_id' AS released;
SELECT status, is_active, released_at IS NOT NULL AS has_released_at, provider_released_at
  FROM number_wallet.business_numbers WHERE id = :'n1';
SELECT kind, type, amount, balance_after, description FROM number_wallet.transactions WHERE number_id = :'n1' ORDER BY id;
-- A repeated release by the owner replays the first refund and refunds nothing more.
SELECT (number_wallet.release_number(:erin, :'n1')) - 'number_id' AS replay;
SELECT count(*) AS refunds FROM number_wallet.transactions WHERE number_id = :'n1' AND kind = 'refund';
SELECT (number_wallet.refund_quote(:'n1'))->>'reason' AS quote_after_release;

-- A released number stays held until its deletion at Twilio is recorded.
SELECT nw_try($$SELECT number_wallet.purchase_number('00000000-0000-0000-0000-00000000f4a2', '+14155551000', 8)$$) AS still_held;
SELECT reason, status, phone_number FROM number_wallet.numbers_needing_intervention WHERE id = :'n1';
SELECT number_wallet.mark_provider_released(:'n1') AS m1 \gset
SELECT :'m1'::jsonb->>'replayed' AS replayed,
       (:'m1'::jsonb->>'provider_released_at')::timestamptz = (SELECT provider_released_at FROM number_wallet.business_numbers WHERE id = :'n1') AS recorded;
SELECT (number_wallet.mark_provider_released(:'n1'))->>'replayed' AS replay, (number_wallet.mark_provider_released(:'n1')) - 'replayed' = :'m1'::jsonb - 'replayed' AS same;
SELECT (number_wallet.purchase_number(:frank, '+14155551000', 8))->>'status' AS free_again;
SELECT (number_wallet.release_number(:erin, :'n1'))->>'replayed' AS release_replays_after_mark;

-- Release after the window: released without a refund ("0.00").
SELECT nw_bought(:erin, '+14155551002', 3, 'PN10000000000000000000000000000002') AS n2 \gset
UPDATE number_wallet.business_numbers SET purchase_date = purchase_date - interval '720 hours 1 second' WHERE id = :'n2';
SELECT (number_wallet.release_number(:erin, :'n2'))->'refund' AS late_refund;
SELECT count(*) AS refunds FROM number_wallet.transactions WHERE number_id = :'n2' AND kind = 'refund';
-- And exactly at 30 days (a few milliseconds pass between statements, so stay just inside).
SELECT nw_bought(:erin, '+14155551003', 3, 'PN10000000000000000000000000000003') AS n3 \gset
UPDATE number_wallet.business_numbers SET purchase_date = purchase_date - interval '719 hours 59 minutes 50 seconds' WHERE id = :'n3';
SELECT (number_wallet.release_number(:erin, :'n3'))->'refund' AS in_window_refund;

-- A refund returns the purchase, never a renewal.
SELECT nw_bought(:erin, '+14155551004', 4, 'PN10000000000000000000000000000004') AS n4 \gset
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 minute' WHERE id = :'n4';
SELECT number_wallet.renew_due_numbers();
SELECT kind, amount FROM number_wallet.transactions WHERE number_id = :'n4' ORDER BY id;
SELECT (number_wallet.release_number(:erin, :'n4'))->'refund' AS refund_is_the_purchase;

-- Releasing is the owner's only: another user's or an unknown number is NW003,
-- whatever the caller's wallet holds; pending and failed numbers are NW004.
SELECT nw_bought(:erin, '+14155551005', 2, 'PN10000000000000000000000000000005') AS n5 \gset
SELECT nw_money_state() AS before \gset
SELECT nw_try(format('SELECT number_wallet.release_number(%L, %L)', :frank, :'n5')) AS not_yours;
SELECT nw_try(format('SELECT number_wallet.release_number(%L, %L)', :frank, '00000000-0000-0000-0000-000000000000')) AS unknown;
SELECT nw_try(format('SELECT number_wallet.release_number(%L, %L)', '00000000-0000-0000-0000-0000000e0e0e', :'n5')) AS no_wallet_user;
SELECT number_wallet.purchase_number(:erin, '+14155551006', 1) AS pending \gset
SELECT nw_money_state() AS before \gset
SELECT nw_try(format('SELECT number_wallet.release_number(%L, %L)', :erin, :'pending'::jsonb->>'number_id')) AS release_pending;
SELECT nw_try(format('SELECT number_wallet.mark_provider_released(%L)', :'pending'::jsonb->>'number_id')) AS mark_pending;
SELECT nw_try(format('SELECT number_wallet.mark_provider_released(%L)', :'n5')) AS mark_active;
SELECT number_wallet.fail_purchase((:'pending'::jsonb->>'number_id')::uuid, 'x') IS NOT NULL AS failed;
SELECT nw_money_state() AS before \gset
SELECT nw_try(format('SELECT number_wallet.release_number(%L, %L)', :erin, :'pending'::jsonb->>'number_id')) AS release_failed;
SELECT nw_try(format('SELECT number_wallet.mark_provider_released(%L)', :'pending'::jsonb->>'number_id')) AS mark_failed;
SELECT nw_try(format('SELECT number_wallet.confirm_purchase(%L, ''PN1000000000000000000000000000000f'')', :'n1')) AS confirm_released;
SELECT nw_try(format('SELECT number_wallet.fail_purchase(%L, ''x'')', :'n1')) AS fail_released;
SELECT nw_try(sql) AS bad_input FROM (VALUES
  ($$SELECT number_wallet.release_number(NULL, '00000000-0000-0000-0000-000000000000')$$),
  ($$SELECT number_wallet.release_number('00000000-0000-0000-0000-000000000000', NULL)$$),
  ($$SELECT number_wallet.refund_quote(NULL)$$),
  ($$SELECT number_wallet.refund_quote('00000000-0000-0000-0000-000000000000', NULL)$$),
  ($$SELECT number_wallet.refund_quote('00000000-0000-0000-0000-000000000000', 'infinity')$$),
  ($$SELECT number_wallet.refund_quote('00000000-0000-0000-0000-000000000000')$$),
  ($$SELECT number_wallet.mark_provider_released(NULL)$$)
) AS t(sql);
SELECT nw_money_state() = :'before' AS nothing_changed;
-- A pending number's quote: not active, no purchase date yet.
SELECT number_wallet.refund_quote((:'pending'::jsonb->>'number_id')::uuid) AS failed_quote;

SELECT * FROM number_wallet.wallet_reconcile();
