-- renew_due_numbers: charged when due, unpaid waits, released without refund
-- after the grace period; at most one period per number per call.
\set gina '''00000000-0000-0000-0000-000000009144'''
\set hank '''00000000-0000-0000-0000-000000004a4c'''
SELECT (number_wallet.wallet_credit(:gina, 10))->>'balance', (number_wallet.wallet_credit(:hank, 3))->>'balance';
SELECT nw_bought(:gina, '+14155552000', 2, 'PN20000000000000000000000000000000') AS g1 \gset
SELECT nw_bought(:hank, '+14155552001', 2, 'PN20000000000000000000000000000001') AS h1 \gset

-- Nothing is due yet.
SELECT number_wallet.renew_due_numbers();

-- Due: gina pays a month; hank (balance 1.00) cannot and waits.
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 hour' WHERE id IN (:'g1', :'h1');
SELECT number_wallet.renew_due_numbers();
-- (Periods stay anchored to the purchase: billing_periods.sql.)
SELECT paid_until > now() AS paid_ahead,
       paid_until = ((purchase_date AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC' AS anchored,
       renewal_unpaid_since, renewal_attempted_at
  FROM number_wallet.business_numbers WHERE id = :'g1';
SELECT type, kind, amount, balance_after, description LIKE 'Renewal: +14155552000 from %' AS described
  FROM number_wallet.transactions WHERE number_id = :'g1' ORDER BY id;
SELECT status, renewal_unpaid_since IS NOT NULL AS marked_unpaid, renewal_attempted_at = renewal_unpaid_since AS attempted
  FROM number_wallet.business_numbers WHERE id = :'h1';
SELECT reason, phone_number FROM number_wallet.numbers_needing_intervention WHERE id = :'h1';
-- Another pass leaves the paid number alone, and the unpaid one too: it is
-- retried at most hourly (renewal_fairness.sql).
SELECT number_wallet.renew_due_numbers();

-- Once hank tops up, the next retry (an hour later) charges him.
SELECT (number_wallet.wallet_credit(:hank, 5))->>'balance';
UPDATE number_wallet.business_numbers SET renewal_attempted_at = renewal_attempted_at - interval '1 hour' WHERE id = :'h1';
SELECT number_wallet.renew_due_numbers();
SELECT status, renewal_unpaid_since, renewal_attempted_at FROM number_wallet.business_numbers WHERE id = :'h1';

-- Far behind (as if bought four months ago and paid for one): one period per
-- call, however many are owed.
UPDATE number_wallet.business_numbers
   SET purchase_date = purchase_date - interval '4 months', paid_until = paid_until - interval '4 months'
 WHERE id = :'g1';
SELECT number_wallet.renew_due_numbers();
SELECT count(*) AS renewals_of_g1 FROM number_wallet.transactions WHERE number_id = :'g1' AND kind = 'renewal';
SELECT paid_until < now() AS still_behind FROM number_wallet.business_numbers WHERE id = :'g1';
UPDATE number_wallet.business_numbers SET paid_until = now() + interval '1 day' WHERE id = :'g1';

-- Unpaid past the grace period (7 days): released without a refund.
SELECT nw_bought(:hank, '+14155552002', 2, 'PN20000000000000000000000000000002') AS h2 \gset
SELECT (number_wallet.update_wallet_balance_atomic((SELECT id FROM number_wallet.wallets WHERE user_id = :hank), -balance_usd, 'USD')).balance_usd
  FROM number_wallet.wallets WHERE user_id = :hank;
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '6 days' WHERE id = :'h2';
SELECT number_wallet.renew_due_numbers() AS within_grace;
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '7 days 1 minute',
       renewal_attempted_at = renewal_attempted_at - interval '1 hour' WHERE id = :'h2';
SELECT number_wallet.renew_due_numbers() AS grace_over;
SELECT status, released_at IS NOT NULL AS released, provider_released_at, notes FROM number_wallet.business_numbers WHERE id = :'h2';
SELECT kind, amount FROM number_wallet.transactions WHERE number_id = :'h2' ORDER BY id;
-- Its release replays with issued: false, and it awaits deletion at Twilio.
SELECT (number_wallet.release_number(:hank, :'h2')) - 'number_id' AS release_replay;
SELECT reason FROM number_wallet.numbers_needing_intervention WHERE id = :'h2';

-- A number Twilio no longer has (missing_at_provider) is not renewed.
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 day' WHERE id = :'g1';
SELECT number_wallet.record_discrepancy('missing_at_provider', '+14155552000', 'PN20000000000000000000000000000000', :'g1', 'not in the inventory') AS d1 \gset
SELECT number_wallet.renew_due_numbers() AS skipped;
SELECT (number_wallet.resolve_discrepancy(:d1, 'found again')) - 'resolved_at' - 'id' - 'audit_id' AS resolved;
SELECT number_wallet.renew_due_numbers() AS after_resolution;

-- p_limit bounds the numbers handled in one call.
SELECT (number_wallet.wallet_credit(:gina, 1))->>'balance';
SELECT nw_bought(:gina, '+1415555210' || g, 0.01, 'PN2100000000000000000000000000000' || g) IS NOT NULL FROM generate_series(0, 2) g;
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 hour' WHERE phone_number LIKE '+141555521%';
SELECT number_wallet.renew_due_numbers(2);
SELECT number_wallet.renew_due_numbers(2);
SELECT nw_try(sql) FROM (VALUES ($$SELECT number_wallet.renew_due_numbers(NULL)$$), ($$SELECT number_wallet.renew_due_numbers(0)$$)) t(sql);

SELECT * FROM number_wallet.wallet_reconcile();
