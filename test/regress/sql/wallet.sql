-- wallet_credit, update_wallet_balance_atomic, exact money, currencies, bad input.
\set alice '''00000000-0000-0000-0000-00000000a11c'''
\set bob   '''00000000-0000-0000-0000-000000000b0b'''

-- A first credit creates the wallet.
SELECT number_wallet.wallet_credit(:alice, 20, 'USD') AS r \gset
SELECT :'r'::jsonb->>'currency' AS currency, :'r'::jsonb->>'balance' AS balance, :'r'::jsonb->>'replayed' AS replayed,
       (:'r'::jsonb->>'wallet_id')::uuid = (SELECT id FROM number_wallet.wallets WHERE user_id = :alice) AS wallet_matches;

-- Exact money: ten credits of 0.10 make exactly 1.00.
SELECT count(number_wallet.wallet_credit(:bob, 0.10, 'USD')) FROM generate_series(1, 10);
SELECT balance_usd, balance_usd = 1.00 AS exact FROM number_wallet.wallets WHERE user_id = :bob;

-- USD and INR are kept apart.
SELECT r->>'currency', r->>'balance' FROM number_wallet.wallet_credit(:bob, 500.5, 'INR') r;
SELECT balance_usd, balance_inr FROM number_wallet.wallets WHERE user_id = :bob;

-- Defaults: USD and the description "Top-up"; a custom description is kept.
SELECT r->>'currency', r->>'balance' FROM number_wallet.wallet_credit(:alice, 1) r;
SELECT (number_wallet.wallet_credit(:alice, 2, 'USD', 'Promo credit'))->>'balance';
SELECT type, kind, amount, currency, balance_after, description, number_id
  FROM number_wallet.transactions WHERE user_id = :alice ORDER BY id;

-- Idempotent credits: the same key and parameters replay, others are NW006.
SELECT r->>'balance', r->>'replayed' FROM number_wallet.wallet_credit(:alice, 5, 'USD', NULL, 'topup-1') r;
SELECT r->>'balance', r->>'replayed',
       (r->>'transaction_id')::bigint = (SELECT id FROM number_wallet.transactions WHERE idempotency_key = 'topup-1')
  FROM number_wallet.wallet_credit(:alice, 5.00, 'USD', 'another text', 'topup-1') r;
SELECT nw_try($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 6, 'USD', NULL, 'topup-1')$$);
SELECT nw_try($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 5, 'INR', NULL, 'topup-1')$$);
-- Keys are per user: bob may use the same key.
SELECT r->>'replayed' FROM number_wallet.wallet_credit(:bob, 5, 'USD', NULL, 'topup-1') r;
SELECT count(*) AS credits_with_key FROM number_wallet.transactions WHERE idempotency_key = 'topup-1';

-- A credit that would overflow the balance column is 22003.
SELECT (number_wallet.wallet_credit('00000000-0000-0000-0000-0000000f0001', 999999999999.99))->>'balance';

-- Bad input is 22023 (or 22003 when too large for the column) and changes nothing.
SELECT nw_money_state() AS before \gset
SELECT nw_try(sql) FROM (VALUES
  ($$SELECT number_wallet.wallet_credit(NULL, 1)$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', NULL)$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 'NaN')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 'Infinity')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', -1)$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 0)$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1.005)$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1000000000000)$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'EUR')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'usd')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, NULL)$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD'' OR 1=1 --')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', 'Refund: fake')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', '  reversal: fake')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', 'Phone number purchase: +14155550100')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', 'Renewal: x')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', repeat('x', 501))$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', 'ok', '')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', 'ok', repeat('k', 256))$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', 'ok', E'key\twith tab')$$),
  ($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-00000000a11c', 1, 'USD', 'ok', 'ключ')$$)
) AS t(sql);
-- One cent more than the column holds is 22003.
SELECT nw_try($$SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-0000000f0001', 0.01)$$);
SELECT nw_money_state() = :'before' AS nothing_changed;

-- update_wallet_balance_atomic: the seed's function; signed, non-zero; one adjustment row.
SELECT balance_usd, balance_inr, is_active
  FROM number_wallet.update_wallet_balance_atomic((SELECT id FROM number_wallet.wallets WHERE user_id = :alice), -3.5, 'USD');
SELECT balance_usd, balance_inr
  FROM number_wallet.update_wallet_balance_atomic((SELECT id FROM number_wallet.wallets WHERE user_id = :alice), 10, 'INR');
SELECT type, kind, amount, currency, balance_after, description FROM number_wallet.transactions
 WHERE user_id = :alice AND kind = 'adjustment' ORDER BY id;
SELECT nw_try(format('SELECT number_wallet.update_wallet_balance_atomic(%L, -1000, ''USD'')',
                     (SELECT id FROM number_wallet.wallets WHERE user_id = :alice)));
SELECT nw_try(format('SELECT number_wallet.update_wallet_balance_atomic(%L, 0, ''USD'')',
                     (SELECT id FROM number_wallet.wallets WHERE user_id = :alice)));
-- A signed amount's errors name the signed rule (never "positive"): too many
-- decimals, too large in magnitude.
SELECT nw_try(format('SELECT number_wallet.update_wallet_balance_atomic(%L, %s, ''USD'')',
                     (SELECT id FROM number_wallet.wallets WHERE user_id = :alice), v)) AS signed_refusal
  FROM unnest(ARRAY['-1.005', '-1000000000000', '1000000000000']) v;
SELECT nw_try($$SELECT number_wallet.update_wallet_balance_atomic('00000000-0000-0000-0000-000000000000', 1, 'USD')$$);
SELECT nw_try($$SELECT number_wallet.update_wallet_balance_atomic(NULL, 1, 'USD')$$);

-- The ledger agrees with every balance.
SELECT * FROM number_wallet.wallet_reconcile();
