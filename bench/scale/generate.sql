-- bench/scale/generate.sql: the data of bench/scale.sh, generated in SQL as the
-- table owner through the tables' own rules (the row-rule triggers, the
-- append-only ledger, the balance CHECKs and every index stay on).
-- psql variables: wallets (the bulk size), renewal (due numbers), history
-- (ledger entries of the one long-history user).
--
-- Bulk users g = 1..:wallets (user md5('u' || g), as bench/number_wallet_purchase.pgbench
-- picks them): a wallet, one active number bought 1–28 days ago (not due) and
-- one released number deleted at the provider and refunded; ledger: top-up 100,
-- two purchases of 1.15, one refund (balance 98.85).
-- Renewal users r = 1..:renewal/20: 20 numbers each, bought a month and an hour
-- ago, so due now (paid_until an hour ago); top-up 100, 20 purchases.
-- The history user: :history/5 active numbers, each with its purchase and
-- four renewals (:history entries after one top-up).
-- Every balance_after is the running balance in id order, so
-- wallet_reconcile() finds nothing (checked by bench/scale.sh at the smallest size).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';

-- ---- bulk -------------------------------------------------------------------
INSERT INTO number_wallet.wallets (id, user_id, balance_usd, created_at, updated_at)
SELECT md5('w' || g)::uuid, md5('u' || g)::uuid, 98.85, now() - interval '40 days', now() - interval '1 day'
  FROM generate_series(1, :wallets) g;

INSERT INTO number_wallet.business_numbers
  (id, user_id, phone_number, status, twilio_sid, monthly_cost, currency, purchase_date, paid_until,
   refund_window_days, released_at, provider_released_at, provider, created_at, updated_at)
SELECT md5('a' || g)::uuid, md5('u' || g)::uuid, '+1' || (4000000000 + g), 'active',
       'PN' || md5('a' || g), 1.15, 'USD', now() - (1 + g % 28) * interval '1 day',
       now() - (1 + g % 28) * interval '1 day' + interval '1 month', 30, NULL, NULL, 'simulator',
       now() - (1 + g % 28) * interval '1 day', now() - (1 + g % 28) * interval '1 day'
  FROM generate_series(1, :wallets) g
UNION ALL
SELECT md5('b' || g)::uuid, md5('u' || g)::uuid, '+1' || (5000000000 + g), 'released',
       'PN' || md5('b' || g), 1.15, 'USD', now() - interval '35 days', now() - interval '5 days', 30,
       now() - interval '34 days', now() - interval '34 days', 'simulator',
       now() - interval '35 days', now() - interval '34 days'
  FROM generate_series(1, :wallets) g;

INSERT INTO number_wallet.transactions
  (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id, created_at)
SELECT md5('w' || g)::uuid, md5('u' || g)::uuid, e.type, e.kind, e.amount, 'USD', e.balance_after, e.description,
       CASE e.seq WHEN 1 THEN NULL WHEN 2 THEN md5('b' || g)::uuid WHEN 3 THEN md5('b' || g)::uuid
                  ELSE md5('a' || g)::uuid END,
       now() - e.days_ago * interval '1 day'
  FROM generate_series(1, :wallets) g,
       (VALUES (1, 'CREDIT', 'topup', 100.00, 100.00, 'Top-up', 40),
               (2, 'DEBIT', 'purchase', 1.15, 98.85, 'Purchase', 35),
               (3, 'CREDIT', 'refund', 1.15, 100.00, 'Refund', 34),
               (4, 'DEBIT', 'purchase', 1.15, 98.85, 'Purchase', 29)) e(seq, type, kind, amount, balance_after, description, days_ago)
 ORDER BY g, e.seq;

-- ---- the renewal set ------------------------------------------------------------
INSERT INTO number_wallet.wallets (id, user_id, balance_usd, created_at, updated_at)
SELECT md5('rw' || r)::uuid, md5('ru' || r)::uuid, 100.00 - 20 * 1.15, now() - interval '40 days', now()
  FROM generate_series(1, :renewal / 20) r;
INSERT INTO number_wallet.business_numbers
  (id, user_id, phone_number, status, twilio_sid, monthly_cost, currency, purchase_date, paid_until,
   refund_window_days, provider, created_at, updated_at)
SELECT md5('r' || k)::uuid, md5('ru' || (1 + (k - 1) / 20))::uuid, '+1' || (6000000000 + k), 'active',
       'PN' || md5('r' || k), 1.15, 'USD', now() - interval '1 hour' - interval '1 month',
       now() - interval '1 hour', 30, 'simulator',
       now() - interval '1 hour' - interval '1 month', now() - interval '1 hour' - interval '1 month'
  FROM generate_series(1, :renewal) k;
INSERT INTO number_wallet.transactions
  (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id, created_at)
SELECT md5('rw' || r)::uuid, md5('ru' || r)::uuid,
       CASE WHEN j = 0 THEN 'CREDIT' ELSE 'DEBIT' END, CASE WHEN j = 0 THEN 'topup' ELSE 'purchase' END,
       CASE WHEN j = 0 THEN 100.00 ELSE 1.15 END, 'USD', 100.00 - j * 1.15,
       CASE WHEN j = 0 THEN 'Top-up' ELSE 'Purchase' END,
       CASE WHEN j = 0 THEN NULL ELSE md5('r' || ((r - 1) * 20 + j))::uuid END,
       now() - interval '1 hour' - interval '1 month'
  FROM generate_series(1, :renewal / 20) r, generate_series(0, 20) j
 ORDER BY r, j;

-- ---- the long-history user --------------------------------------------------------
INSERT INTO number_wallet.wallets (id, user_id, balance_usd, created_at, updated_at)
VALUES (md5('hw')::uuid, md5('hu')::uuid, 1000000.00 - :history * 1.15, now() - interval '400 days', now());
INSERT INTO number_wallet.business_numbers
  (id, user_id, phone_number, status, twilio_sid, monthly_cost, currency, purchase_date, paid_until,
   refund_window_days, provider, created_at, updated_at)
SELECT md5('h' || k)::uuid, md5('hu')::uuid, '+1' || (7000000000 + k), 'active', 'PN' || md5('h' || k), 1.15, 'USD',
       now() - interval '125 days' - k * interval '1 second',
       now() - interval '125 days' - k * interval '1 second' + interval '5 months', 30, 'simulator',
       now() - interval '125 days' - k * interval '1 second', now() - interval '5 days'
  FROM generate_series(1, :history / 5) k;
-- j = 0: the top-up; then for each number k its purchase, then its four renewals.
INSERT INTO number_wallet.transactions
  (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id, created_at)
SELECT md5('hw')::uuid, md5('hu')::uuid,
       CASE WHEN j = 0 THEN 'CREDIT' ELSE 'DEBIT' END,
       CASE WHEN j = 0 THEN 'topup' WHEN (j - 1) % 5 = 0 THEN 'purchase' ELSE 'renewal' END,
       CASE WHEN j = 0 THEN 1000000.00 ELSE 1.15 END, 'USD', 1000000.00 - j * 1.15,
       CASE WHEN j = 0 THEN 'Top-up' WHEN (j - 1) % 5 = 0 THEN 'Purchase' ELSE 'Renewal' END,
       CASE WHEN j = 0 THEN NULL ELSE md5('h' || (1 + (j - 1) / 5))::uuid END,
       now() - interval '130 days' + j * interval '1 second'
  FROM generate_series(0, :history) j
 ORDER BY j;
