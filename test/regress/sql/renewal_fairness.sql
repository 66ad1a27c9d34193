-- Renewal fairness (docs/sql-api.md): a pass takes due numbers never tried first,
-- then the ones left unpaid, least recently tried first; an unpaid number is
-- retried at most hourly; a backlog of unpaid numbers never keeps other due
-- numbers from being charged in the next pass; the pass that first tries a
-- due number never releases it. An hour passing is simulated by moving
-- renewal_attempted_at (and paid_until) into the past as the owner.
\set bart '''00000000-0000-0000-0000-00000000ba27'''
\set fern '''00000000-0000-0000-0000-00000000fe27'''
\set gus  '''00000000-0000-0000-0000-00000000006a'''
-- Nothing else is due when this file starts (each pass below sees only its numbers).
SELECT count(*) AS due_before FROM number_wallet.business_numbers WHERE status = 'active' AND paid_until <= now();

-- (i) bart's wallet has the lowest id of all (passes lock wallets in id
-- order) and three numbers he cannot pay; fern's has the highest, with money.
INSERT INTO number_wallet.wallets (id, user_id) VALUES
  ('00000000-0000-0000-0000-000000000001', :bart), ('ffffffff-ffff-ffff-ffff-ffffffffffff', :fern);
SELECT (number_wallet.wallet_credit(:bart, 3))->>'balance' AS bart, (number_wallet.wallet_credit(:fern, 5))->>'balance' AS fern;
SELECT nw_bought(:bart, '+1650555000' || g, 1, 'PN65000000000000000000000000000' || g) IS NOT NULL AS bought
  FROM generate_series(1, 3) g;
SELECT nw_bought(:fern, '+16505550009', 1, 'PN650000000000000000000000000009') AS f1 \gset
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '2 days' WHERE user_id = :bart;

-- bart's numbers fall due: the first pass tries two of them, the next pass
-- the third (the two just tried wait for their hour).
SELECT number_wallet.renew_due_numbers(2) AS first_pass;
SELECT number_wallet.renew_due_numbers(2) AS second_pass;
SELECT count(*) FILTER (WHERE renewal_attempted_at IS NOT NULL) AS tried, count(*) FILTER (WHERE status = 'active') AS active
  FROM number_wallet.business_numbers WHERE user_id = :bart;
SELECT number_wallet.renew_due_numbers(2) AS within_the_hour;

-- An hour later all three are due for a retry: a backlog larger than the pass.
-- fern's number falls due now: the next pass (p_limit 2) charges it first.
UPDATE number_wallet.business_numbers SET renewal_attempted_at = renewal_attempted_at - interval '1 hour'
 WHERE user_id = :bart;
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 minute' WHERE id = :'f1';
SELECT number_wallet.renew_due_numbers(2) AS backlog_and_fern;
SELECT paid_until > now() AS fern_paid_ahead, renewal_attempted_at FROM number_wallet.business_numbers WHERE id = :'f1';
SELECT kind, amount, balance_after FROM number_wallet.transactions WHERE number_id = :'f1' ORDER BY id;
-- The backlog is retried least recently tried first: the two bart numbers
-- not retried yet, and never the one retried a moment ago.
SELECT number_wallet.renew_due_numbers(2) AS rest_of_backlog;
SELECT count(*) FILTER (WHERE renewal_attempted_at > now() - interval '1 minute') AS retried_just_now
  FROM number_wallet.business_numbers WHERE user_id = :bart;

-- Never-tried numbers go in paid_until order: with room for one, the older one.
SELECT (number_wallet.wallet_credit(:fern, 5))->>'balance' AS fern;
SELECT nw_bought(:fern, '+16505550008', 1, 'PN650000000000000000000000000008') AS f2 \gset
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '3 days' WHERE id = :'f2';
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '4 days' WHERE id = :'f1';
SELECT number_wallet.renew_due_numbers(1) AS room_for_one;
SELECT phone_number, paid_until > now() AS paid_ahead FROM number_wallet.business_numbers
 WHERE id IN (:'f1', :'f2') ORDER BY phone_number;
SELECT number_wallet.renew_due_numbers(1) AS then_the_other;

-- (ii) and (iii): gus's number is already past the grace days (7) when a
-- pass first tries it: left unpaid, not released.
SELECT (number_wallet.wallet_credit(:gus, 1))->>'balance' AS gus;
SELECT nw_bought(:gus, '+16505550007', 1, 'PN650000000000000000000000000007') AS g1 \gset
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '10 days' WHERE id = :'g1';
SELECT number_wallet.renew_due_numbers() AS first_try;
SELECT status, renewal_attempted_at IS NOT NULL AS tried, renewal_unpaid_since = renewal_attempted_at AS unpaid_since_try
  FROM number_wallet.business_numbers WHERE id = :'g1';
SELECT renewal_attempted_at AS g1_tried FROM number_wallet.business_numbers WHERE id = :'g1' \gset
-- Not retried within the hour: a pass right away, and one 59 minutes later.
SELECT number_wallet.renew_due_numbers() AS right_away;
UPDATE number_wallet.business_numbers SET renewal_attempted_at = renewal_attempted_at - interval '59 minutes'
 WHERE id = :'g1';
SELECT number_wallet.renew_due_numbers() AS after_59_minutes;
SELECT status, renewal_attempted_at = :'g1_tried'::timestamptz - interval '59 minutes' AS attempt_unchanged
  FROM number_wallet.business_numbers WHERE id = :'g1';
-- An hour after the first try, a later pass releases it (no refund).
UPDATE number_wallet.business_numbers SET renewal_attempted_at = renewal_attempted_at - interval '2 minutes'
 WHERE id = :'g1';
SELECT number_wallet.renew_due_numbers() AS an_hour_later;
SELECT status, notes FROM number_wallet.business_numbers WHERE id = :'g1';
SELECT kind, amount FROM number_wallet.transactions WHERE number_id = :'g1' ORDER BY id;

-- The grace rule counts only a try after the number fell due: an attempt
-- recorded before paid_until (e.g. moved by hand) is not one.
SELECT (number_wallet.wallet_credit(:gus, 1))->>'balance' AS gus;
SELECT nw_bought(:gus, '+16505550006', 1, 'PN650000000000000000000000000006') AS g2 \gset
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '10 days',
       renewal_attempted_at = now() - interval '11 days' WHERE id = :'g2';
SELECT number_wallet.renew_due_numbers() AS attempt_before_due;
SELECT status FROM number_wallet.business_numbers WHERE id = :'g2';

-- Leave nothing due behind: bart's and gus's numbers are released, fern is paid ahead.
SELECT count(*) AS released_by_owner FROM number_wallet.business_numbers n,
       LATERAL number_wallet.release_number(n.user_id, n.id) r
 WHERE n.user_id IN (:bart, :gus) AND n.status = 'active';
SELECT count(*) AS due_after FROM number_wallet.business_numbers WHERE status = 'active' AND paid_until <= now();
SELECT * FROM number_wallet.wallet_reconcile();
