-- Monitoring: the seed's queries run unchanged, the views, discrepancies,
-- and wallet_reconcile() finding a planted drift.
\set ivy '''00000000-0000-0000-0000-000000000177'''
SELECT (number_wallet.wallet_credit(:ivy, 50))->>'balance';
SELECT nw_bought(:ivy, '+14155553000', 5, 'PN30000000000000000000000000000000') AS i1 \gset
SELECT number_wallet.purchase_number(:ivy, '+14155553001', 5) AS pending \gset

SET search_path = number_wallet;
-- The seed's "Monitoring and Alerts" queries, verbatim (counts only where rows
-- from earlier suites make totals vary).
SELECT count(*) >= 0 AS ran FROM (
SELECT id, phone_number, twilio_sid, notes, created_at
FROM business_numbers
WHERE is_active = false
  AND notes LIKE '%PAYMENT PROCESSING FAILED%'
ORDER BY created_at DESC
) q;
SELECT count(*) > 0 AS ran FROM (
SELECT
  DATE(created_at) as date,
  type,
  COUNT(*) as count,
  SUM(amount) as total_amount
FROM transactions
WHERE created_at >= NOW() - INTERVAL '7 days'
GROUP BY DATE(created_at), type
ORDER BY date DESC, type
) q;
SELECT (total_usd >= 50) AS ran FROM (
SELECT SUM(balance_usd) as total_usd, SUM(balance_inr) as total_inr
FROM wallets WHERE is_active = true
) q;
SELECT count(*) > 0 AS ran FROM (
SELECT
  type,
  COUNT(*) as count,
  SUM(amount) as total
FROM transactions
WHERE created_at >= NOW() - INTERVAL '24 hours'
GROUP BY type
) q;
SELECT count as intervention_notes FROM (
SELECT COUNT(*) as count
FROM business_numbers
WHERE is_active = false
  AND notes LIKE '%PAYMENT PROCESSING FAILED%'
) q;
SELECT refund_count > 0 AS ran FROM (
SELECT COUNT(*) as refund_count, SUM(amount) as refund_amount
FROM transactions
WHERE type = 'CREDIT'
  AND description LIKE 'Refund:%'
  AND created_at >= NOW() - INTERVAL '7 days'
) q;
SELECT active_numbers > 0 AS ran FROM (
SELECT COUNT(*) as active_numbers
FROM business_numbers
WHERE is_active = true
) q;
SELECT successful > 0 AND total >= successful AS ran FROM (
WITH purchases AS (
  SELECT
    COUNT(*) FILTER (WHERE is_active = true) as successful,
    COUNT(*) as total
  FROM business_numbers
  WHERE created_at >= NOW() - INTERVAL '30 days'
)
SELECT
  successful,
  total,
  ROUND(100.0 * successful / NULLIF(total, 0), 2) as success_rate
FROM purchases
) q;
RESET search_path;

-- The views.
SELECT count(*) > 0 AS has_rows, bool_and(count > 0) AS counts_positive
  FROM number_wallet.daily_transaction_summary;
SELECT successful + failed + pending <= total AS consistent, success_rate BETWEEN 0 AND 100 AS percentage
  FROM number_wallet.purchase_success_rate;
-- A pending purchase needs intervention only after pending_alert_seconds.
SELECT count(*) AS pending_alerts FROM number_wallet.numbers_needing_intervention
 WHERE id = (:'pending'::jsonb->>'number_id')::uuid;
SET number_wallet.pending_alert_seconds = 1;
UPDATE number_wallet.business_numbers SET created_at = now() - interval '2 seconds'
 WHERE id = (:'pending'::jsonb->>'number_id')::uuid;
SELECT reason, status, phone_number FROM number_wallet.numbers_needing_intervention
 WHERE id = (:'pending'::jsonb->>'number_id')::uuid;
RESET number_wallet.pending_alert_seconds;

-- Discrepancies: the same open finding twice is one row; NULLs count as equal.
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155553999', 'PN39999999999999999999999999999999', NULL, 'tagged with no row') AS d1 \gset
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155553999', 'PN39999999999999999999999999999999', NULL, 'seen again') = :d1 AS same_row;
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155553998', NULL, NULL, NULL) = :d1 AS other_finding;
SELECT reason, phone_number, twilio_sid, status, discrepancy_id = :d1 AS is_d1
  FROM number_wallet.numbers_needing_intervention WHERE phone_number = '+14155553999';
SELECT (number_wallet.resolve_discrepancy(:d1, 'released by hand')) - 'id' - 'resolved_at' - 'audit_id' AS resolved;
SELECT (number_wallet.resolve_discrepancy(:d1, 'again'))->>'replayed' AS replayed;
SELECT count(*) AS open FROM number_wallet.numbers_needing_intervention WHERE phone_number = '+14155553999';
-- Once resolved, the same finding may be recorded anew.
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155553999', 'PN39999999999999999999999999999999', NULL, 'back') <> :d1 AS new_row;
SELECT nw_try(sql) FROM (VALUES
  ($$SELECT number_wallet.record_discrepancy(NULL, NULL, NULL, NULL, NULL)$$),
  ($$SELECT number_wallet.record_discrepancy('Bad Kind', NULL, NULL, NULL, NULL)$$),
  ($$SELECT number_wallet.record_discrepancy('missing_at_provider', '555', NULL, NULL, NULL)$$),
  ($$SELECT number_wallet.record_discrepancy('missing_at_provider', NULL, 'PN; drop', NULL, NULL)$$),
  ($$SELECT number_wallet.resolve_discrepancy(NULL, 'x')$$),
  ($$SELECT number_wallet.resolve_discrepancy(-1, 'x')$$)
) t(sql);

-- wallet_reconcile: empty when all is well, and it finds planted drift.
SELECT * FROM number_wallet.wallet_reconcile();
BEGIN;
UPDATE number_wallet.wallets SET balance_usd = balance_usd + 0.01 WHERE user_id = :ivy;
SELECT kind, currency, actual - expected AS drift FROM number_wallet.wallet_reconcile();
ROLLBACK;
BEGIN;
-- A number whose ledger breaks the rules: an active number with no purchase entry.
INSERT INTO number_wallet.business_numbers (user_id, phone_number, monthly_cost, currency, status, twilio_sid, purchase_date, paid_until)
VALUES (:ivy, '+14155553002', 5, 'USD', 'active', 'PN30000000000000000000000000000002', now(), now() + interval '1 month');
SELECT kind, currency, detail FROM number_wallet.wallet_reconcile();
ROLLBACK;
SELECT count(*) AS after_rollback FROM number_wallet.wallet_reconcile();
