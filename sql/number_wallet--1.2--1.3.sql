/* sql/number_wallet--1.2--1.3.sql: number_wallet 1.2 -> 1.3.
 *
 * A fresh CREATE EXTENSION runs 1.0, 1.1, 1.2 and then this script; an
 * existing database gets here with ALTER EXTENSION number_wallet UPDATE.
 */
\echo Use "ALTER EXTENSION number_wallet UPDATE TO '1.3'" to load this file. \quit

-- ==== operations: metrics (issue 12) ====
-- metrics_snapshot(): every database-derived value of the shim's /metrics in
-- one statement, so a scrape costs one round trip (the shim caches the answer
-- for at most 15 s). One row per (metric, key, currency):
--   ledger_entries / ledger_amount  key = kind, currency: count(*) and sum(amount)
--                                   of the append-only ledger, so they only grow
--   numbers                         key = status
--   interventions                   key = reason (numbers_needing_intervention)
--   pending_overdue                 pending purchases older than
--                                   number_wallet.pending_alert_seconds (300)
--   wallet_balance                  currency: sum of the wallets' balances
--   ledger_drift_rows               rows of wallet_reconcile()
-- Reads every ledger row (as wallet_reconcile does): meant for a scrape every
-- 15 s or more, not for a request path.
CREATE FUNCTION @extschema@.metrics_snapshot()
RETURNS TABLE (metric text, key text, currency text, value numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM number_wallet.require_service('metrics_snapshot');
  RETURN QUERY
  SELECT 'ledger_entries'::text, t.kind, t.currency, count(*)::numeric
    FROM number_wallet.transactions t GROUP BY t.kind, t.currency
  UNION ALL
  SELECT 'ledger_amount', t.kind, t.currency, sum(t.amount)
    FROM number_wallet.transactions t GROUP BY t.kind, t.currency
  UNION ALL
  SELECT 'numbers', n.status, NULL, count(*)::numeric
    FROM number_wallet.business_numbers n GROUP BY n.status
  UNION ALL
  SELECT 'interventions', i.reason, NULL, count(*)::numeric
    FROM number_wallet.numbers_needing_intervention i GROUP BY i.reason
  UNION ALL
  SELECT 'pending_overdue', NULL, NULL, count(*)::numeric
    FROM number_wallet.numbers_needing_intervention i WHERE i.reason = 'pending_too_long'
  UNION ALL
  SELECT 'wallet_balance', NULL, 'USD', coalesce(sum(w.balance_usd), 0) FROM number_wallet.wallets w
  UNION ALL
  SELECT 'wallet_balance', NULL, 'INR', coalesce(sum(w.balance_inr), 0) FROM number_wallet.wallets w
  UNION ALL
  SELECT 'ledger_drift_rows', NULL, NULL, count(*)::numeric FROM number_wallet.wallet_reconcile();
END
$$;
COMMENT ON FUNCTION @extschema@.metrics_snapshot() IS
  'The database-derived values of the shim''s /metrics in one call: ledger counters by kind and currency, '
  'numbers by status, interventions by reason, overdue pending purchases, wallet balances, drift rows. '
  'Service only; reads the whole ledger.';
REVOKE ALL ON FUNCTION @extschema@.metrics_snapshot() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.metrics_snapshot() TO number_wallet_service;
