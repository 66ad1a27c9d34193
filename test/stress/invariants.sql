-- test/stress/invariants.sql: every invariant of issue 4, checked from the raw
-- tables (run as a superuser: row-level security must not hide rows).
-- Returns one row per violation: (check, detail). No rows = all is well.
--
-- What the callers saw comes from the nw_stress tables, which test/stress/run.sh
-- fills from the load drivers' files (created empty here when missing, so the
-- file also runs on its own against any database with the extension):
--   nw_stress.meta(told_tracked)          true when every top-up went through a driver
--   nw_stress.told_topups                 credits a caller was told succeeded
--   nw_stress.uncertain_topups            credits whose answer was lost (connection, shim killed)
--   nw_stress.told_purchases              purchases a caller was told succeeded (or accepted, 202)
--   nw_stress.outcomes(source, op, state, n)  every SQLSTATE a caller saw
--   nw_stress.client_violations           what only a caller can see (a replay not flagged …)
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS nw_stress;
CREATE TABLE IF NOT EXISTS nw_stress.meta (told_tracked boolean NOT NULL);
CREATE TABLE IF NOT EXISTS nw_stress.told_topups (user_id uuid, key text, amount numeric, currency text);
CREATE TABLE IF NOT EXISTS nw_stress.uncertain_topups (user_id uuid, key text);
CREATE TABLE IF NOT EXISTS nw_stress.told_purchases (number_id uuid, user_id uuid, phone text);
CREATE TABLE IF NOT EXISTS nw_stress.outcomes (source text, op text, state text, n bigint);
CREATE TABLE IF NOT EXISTS nw_stress.client_violations (source text, check_name text, detail text);

WITH ledger AS (
  SELECT t.*, CASE t.type WHEN 'CREDIT' THEN t.amount ELSE -t.amount END AS signed
  FROM number_wallet.transactions t
), per_number AS (
  SELECT n.id, n.user_id, n.status, n.phone_number, n.monthly_cost, n.currency,
         count(l.id) FILTER (WHERE l.kind = 'purchase') AS purchases,
         count(l.id) FILTER (WHERE l.kind = 'purchase' AND l.type = 'DEBIT' AND l.amount = n.monthly_cost
                              AND l.currency = n.currency AND l.user_id = n.user_id) AS good_purchases,
         count(l.id) FILTER (WHERE l.kind = 'reversal') AS reversals,
         count(l.id) FILTER (WHERE l.kind = 'reversal' AND l.type = 'CREDIT' AND l.amount = n.monthly_cost
                              AND l.currency = n.currency AND l.user_id = n.user_id) AS good_reversals,
         count(l.id) FILTER (WHERE l.kind = 'refund') AS refunds,
         count(l.id) FILTER (WHERE l.kind = 'refund' AND l.type = 'CREDIT' AND l.amount = n.monthly_cost
                              AND l.currency = n.currency AND l.user_id = n.user_id) AS good_refunds,
         count(l.id) FILTER (WHERE l.kind = 'renewal' AND NOT (l.type = 'DEBIT' AND l.amount = n.monthly_cost
                              AND l.currency = n.currency AND l.user_id = n.user_id)) AS bad_renewals
  FROM number_wallet.business_numbers n
  LEFT JOIN ledger l ON l.number_id = n.id
  GROUP BY n.id
)
-- 1. Each balance equals its ledger (per wallet and currency) ...
SELECT 'balance equals its ledger' AS check,
       format('wallet %s (user %s) %s: balance %s, ledger %s', w.id, w.user_id, c.cur, c.bal, coalesce(s.total, 0)) AS detail
FROM number_wallet.wallets w
CROSS JOIN LATERAL (VALUES ('USD', w.balance_usd), ('INR', w.balance_inr)) AS c(cur, bal)
LEFT JOIN LATERAL (SELECT sum(l.signed) AS total FROM ledger l WHERE l.wallet_id = w.id AND l.currency = c.cur) s ON true
WHERE c.bal IS DISTINCT FROM coalesce(s.total, 0)
-- ... and is >= 0.
UNION ALL
SELECT 'balance >= 0', format('wallet %s: usd %s inr %s', id, balance_usd, balance_inr)
FROM number_wallet.wallets WHERE balance_usd < 0 OR balance_inr < 0
UNION ALL
SELECT 'one wallet per user', format('user %s has %s wallets', user_id, count(*))
FROM number_wallet.wallets GROUP BY user_id HAVING count(*) > 1
-- 2. balance_after is the running balance in id order (so never negative either).
UNION ALL
SELECT 'balance_after is the running balance in id order',
       format('entry %s (wallet %s %s): balance_after %s, running %s', id, wallet_id, currency, balance_after, running)
FROM (SELECT id, wallet_id, currency, balance_after,
             sum(signed) OVER (PARTITION BY wallet_id, currency ORDER BY id) AS running
      FROM ledger) r
WHERE balance_after <> running OR balance_after < 0
UNION ALL
SELECT 'ledger entry belongs to an existing wallet of its user',
       format('entry %s: wallet %s user %s', l.id, l.wallet_id, l.user_id)
FROM ledger l LEFT JOIN number_wallet.wallets w ON w.id = l.wallet_id
WHERE w.id IS NULL OR w.user_id <> l.user_id
UNION ALL
SELECT 'ledger entry kind, type, amount and currency are valid',
       format('entry %s: %s %s %s %s', id, type, kind, amount, currency)
FROM ledger
WHERE amount <= 0 OR currency NOT IN ('USD', 'INR')
   OR NOT ((type = 'CREDIT' AND kind IN ('topup', 'reversal', 'refund', 'adjustment'))
        OR (type = 'DEBIT' AND kind IN ('purchase', 'renewal', 'adjustment')))
   OR ((kind IN ('purchase', 'reversal', 'refund', 'renewal')) <> (number_id IS NOT NULL))
UNION ALL
SELECT 'ledger entry names an existing number of its user', format('entry %s (%s): number %s', l.id, l.kind, l.number_id)
FROM ledger l LEFT JOIN number_wallet.business_numbers n ON n.id = l.number_id
WHERE l.number_id IS NOT NULL AND (n.id IS NULL OR n.user_id <> l.user_id)
-- 3. At most one live holder per phone number.
UNION ALL
SELECT 'at most one live holder per phone number', format('%s is held by %s rows: %s', phone_number, count(*), string_agg(id::text || ' ' || status, ', '))
FROM number_wallet.business_numbers
WHERE status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL)
GROUP BY phone_number HAVING count(*) > 1
UNION ALL
SELECT 'number row is consistent with its status',
       format('number %s: status %s is_active %s sid %s paid_until %s provider_released_at %s',
              id, status, is_active, twilio_sid, paid_until, provider_released_at)
FROM number_wallet.business_numbers
WHERE status NOT IN ('pending', 'active', 'failed', 'released')
   OR is_active <> (status = 'active')
   OR (status = 'active' AND (twilio_sid IS NULL OR purchase_date IS NULL OR paid_until IS NULL))
   OR (provider_released_at IS NOT NULL AND status <> 'released')
   OR (status = 'released' AND released_at IS NULL)
-- 4. Every number has exactly one purchase debit (its price, its currency, its user),
UNION ALL
SELECT 'every number has exactly one purchase debit',
       format('number %s (%s, %s): %s purchase entries, %s matching', id, phone_number, status, purchases, good_purchases)
FROM per_number WHERE purchases <> 1 OR good_purchases <> 1
-- a failed one exactly one reversal (and no other number any),
UNION ALL
SELECT 'a failed number has exactly one reversal, others none',
       format('number %s (%s): %s reversals, %s matching', id, status, reversals, good_reversals)
FROM per_number
WHERE (status = 'failed' AND (reversals <> 1 OR good_reversals <> 1)) OR (status <> 'failed' AND reversals <> 0)
-- a released one at most one refund (and no other number any),
UNION ALL
SELECT 'a released number has at most one refund, others none',
       format('number %s (%s): %s refunds, %s matching', id, status, refunds, good_refunds)
FROM per_number
WHERE (status = 'released' AND (refunds > 1 OR refunds <> good_refunds)) OR (status <> 'released' AND refunds <> 0)
-- and renewals debit the number's monthly cost.
UNION ALL
SELECT 'a renewal debits the number''s monthly cost', format('number %s: %s bad renewal entries', id, bad_renewals)
FROM per_number WHERE bad_renewals > 0
-- 5. The extension's own audit agrees.
UNION ALL
SELECT 'wallet_reconcile() is empty', format('%s', to_jsonb(r))
FROM number_wallet.wallet_reconcile() r
-- 6. The top-ups callers were told succeeded equal the ledger's: each told key
--    is in the ledger exactly once with the told amount ...
UNION ALL
SELECT 'a top-up the caller was told succeeded is in the ledger once, with its amount',
       format('user %s key %s told %s %s: ledger has %s entries (%s)', t.user_id, t.key, t.amount, t.currency,
              count(l.id), string_agg(l.amount || ' ' || l.currency, ', '))
FROM (SELECT DISTINCT user_id, key, amount, currency FROM nw_stress.told_topups) t
LEFT JOIN ledger l ON l.user_id = t.user_id AND l.idempotency_key = t.key AND l.kind = 'topup'
GROUP BY t.user_id, t.key, t.amount, t.currency
HAVING count(l.id) <> 1 OR bool_or(l.amount <> t.amount OR l.currency <> t.currency)
UNION ALL
SELECT 'one top-up key was told two different amounts', format('user %s key %s', user_id, key)
FROM nw_stress.told_topups GROUP BY user_id, key HAVING count(DISTINCT (amount, currency)) > 1
-- ... and the ledger holds no top-up nobody was told about (unless its answer was lost).
UNION ALL
SELECT 'every ledger top-up was told to its caller (or its answer was lost)',
       format('entry %s: user %s key %s amount %s %s', l.id, l.user_id, l.idempotency_key, l.amount, l.currency)
FROM ledger l
WHERE l.kind = 'topup' AND EXISTS (SELECT 1 FROM nw_stress.meta WHERE told_tracked)
  AND NOT EXISTS (SELECT 1 FROM nw_stress.told_topups t WHERE t.user_id = l.user_id AND t.key = l.idempotency_key)
  AND NOT EXISTS (SELECT 1 FROM nw_stress.uncertain_topups u WHERE u.user_id = l.user_id AND u.key = l.idempotency_key)
-- 7. A purchase a caller was told succeeded is there, for that user and number.
UNION ALL
SELECT 'a purchase the caller was told succeeded exists', format('number %s user %s %s', t.number_id, t.user_id, t.phone)
FROM (SELECT DISTINCT number_id, user_id, phone FROM nw_stress.told_purchases) t
LEFT JOIN number_wallet.business_numbers n ON n.id = t.number_id
WHERE n.id IS NULL OR n.user_id <> t.user_id OR n.phone_number <> t.phone
-- 8. No deadlock, no SQLSTATE outside the contract.
UNION ALL
SELECT 'no SQLSTATE outside the contract, no deadlock', format('%s %s: %s x %s', source, op, state, n)
FROM nw_stress.outcomes
WHERE n > 0 AND state NOT IN ('ok', 'conn', 'NW001', 'NW002', 'NW003', 'NW004', 'NW005', 'NW006',
                              '22023', '22003', '42501', '40001', '55P03', '57014')
UNION ALL
SELECT 'what the callers saw', format('%s %s: %s', source, check_name, detail)
FROM nw_stress.client_violations
ORDER BY 1, 2;
