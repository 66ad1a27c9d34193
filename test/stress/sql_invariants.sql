-- Invariants of the SQL stress run (test/stress/sql_stress.sh). One query per
-- invariant; each returns violation rows (check, detail); no rows = holds.
-- Run as a superuser (row-level security must not hide rows).
-- Each query starts with a line  SELECT '<label>'::text AS check  (the runner greps these).

-- 1
SELECT 'balance equals ledger sum and is >= 0'::text AS check,
       format('wallet %s %s: balance %s, ledger %s', w.id, c.cur, c.bal, coalesce(s.total, 0)) AS detail
  FROM number_wallet.wallets w
 CROSS JOIN LATERAL (VALUES ('USD', w.balance_usd), ('INR', w.balance_inr)) AS c(cur, bal)
  LEFT JOIN LATERAL (SELECT sum(CASE t.type WHEN 'CREDIT' THEN t.amount ELSE -t.amount END) AS total
                       FROM number_wallet.transactions t WHERE t.wallet_id = w.id AND t.currency = c.cur) s ON true
 WHERE c.bal IS DISTINCT FROM coalesce(s.total, 0) OR c.bal < 0;

-- 2
SELECT 'balance_after is the running balance'::text AS check,
       format('tx %s wallet %s %s: balance_after %s, running %s', id, wallet_id, currency, balance_after, running) AS detail
  FROM (SELECT t.*, sum(CASE t.type WHEN 'CREDIT' THEN t.amount ELSE -t.amount END)
                      OVER (PARTITION BY t.wallet_id, t.currency ORDER BY t.id) AS running
          FROM number_wallet.transactions t) x
 WHERE balance_after <> running OR balance_after < 0;

-- 3
SELECT 'at most one held row per phone number'::text AS check,
       format('%s held %s times: %s', phone_number, count(*), string_agg(id::text || ' ' || status, ', ')) AS detail
  FROM number_wallet.business_numbers
 WHERE status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL)
 GROUP BY phone_number HAVING count(*) > 1;

-- 4..7
SELECT 'every number has exactly one purchase entry'::text AS check,
       format('number %s (%s): %s purchase entries', n.id, n.status,
              (SELECT count(*) FROM number_wallet.transactions t WHERE t.number_id = n.id AND t.kind = 'purchase')) AS detail
  FROM number_wallet.business_numbers n
 WHERE (SELECT count(*) FROM number_wallet.transactions t WHERE t.number_id = n.id AND t.kind = 'purchase') <> 1;

SELECT 'a failed number has one reversal and no refund'::text AS check,
       format('number %s: %s reversals, %s refunds', n.id, e.rev, e.ref) AS detail
  FROM number_wallet.business_numbers n
 CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE kind = 'reversal') AS rev, count(*) FILTER (WHERE kind = 'refund') AS ref
                       FROM number_wallet.transactions t WHERE t.number_id = n.id) e
 WHERE n.status = 'failed' AND (e.rev <> 1 OR e.ref <> 0);

SELECT 'a non-failed number has no reversal'::text AS check,
       format('number %s (%s): %s reversals', n.id, n.status, e.rev) AS detail
  FROM number_wallet.business_numbers n
 CROSS JOIN LATERAL (SELECT count(*) AS rev FROM number_wallet.transactions t
                      WHERE t.number_id = n.id AND t.kind = 'reversal') e
 WHERE n.status <> 'failed' AND e.rev <> 0;

SELECT 'a released number has at most one refund, others none'::text AS check,
       format('number %s (%s): %s refunds', n.id, n.status, e.ref) AS detail
  FROM number_wallet.business_numbers n
 CROSS JOIN LATERAL (SELECT count(*) AS ref FROM number_wallet.transactions t
                      WHERE t.number_id = n.id AND t.kind = 'refund') e
 WHERE (n.status = 'released' AND e.ref > 1) OR (n.status <> 'released' AND e.ref <> 0);

-- 8: what callers were told succeeded = the ledger's top-ups (matched by transaction id,
-- keyed and keyless; every top-up of this database went through stress.call)
SELECT 'told credits equal the ledger topups'::text AS check,
       format('told %s / ledger %s', to_jsonb(k), to_jsonb(l)) AS detail
  FROM stress.told_credits k
  FULL JOIN (SELECT id, user_id, amount, currency, idempotency_key FROM number_wallet.transactions
              WHERE kind = 'topup') l ON l.id = k.txid
 WHERE k.txid IS NULL OR l.id IS NULL OR k.user_id <> l.user_id OR k.amount <> l.amount
    OR k.currency <> l.currency OR k.key IS DISTINCT FROM l.idempotency_key
UNION ALL
SELECT 'told credits equal the ledger topups', format('key %s user %s told %s times', key, user_id, count(*))
  FROM stress.told_credits WHERE key IS NOT NULL GROUP BY key, user_id HAVING count(*) > 1;

-- 9
SELECT 'wallet_reconcile() is empty'::text AS check, to_jsonb(r)::text AS detail
  FROM number_wallet.wallet_reconcile() r;

-- 10
SELECT 'every SQLSTATE is in the contract set, no deadlock'::text AS check,
       format('%s: %s x%s', op, sqlstate, count(*)) AS detail
  FROM stress.outcomes
 WHERE sqlstate NOT IN ('00000', 'SKIP', 'NW001', 'NW002', 'NW003', 'NW004', 'NW005', 'NW006',
                        '22023', '22003', '42501', '40001', '55P03', '57014')
 GROUP BY op, sqlstate;

-- 11: what only a caller can see (replay answers)
SELECT 'replays answer like the original'::text AS check, op || ': ' || detail AS detail
  FROM stress.client_violations;
