-- metrics_snapshot(): the database-derived values of /metrics in one call.
-- Runs after the other suites in one database, so it compares differences.
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_met_user;
DROP ROLE IF EXISTS regress_met_svc;
RESET client_min_messages;
CREATE ROLE regress_met_user NOLOGIN;
GRANT number_wallet_user TO regress_met_user;
CREATE ROLE regress_met_svc NOLOGIN;
GRANT number_wallet_service TO regress_met_svc;

-- The shape: every metric, keys and currencies where they belong, no NULL value.
SELECT metric, bool_and(key IS NOT NULL) AS keyed, bool_and(currency IS NOT NULL) AS by_currency,
       bool_and(value IS NOT NULL AND value >= 0) AS counted
  FROM number_wallet.metrics_snapshot() GROUP BY metric ORDER BY metric;
-- One row per key and currency.
SELECT count(*) = count(DISTINCT (metric, key, currency)) AS unique_rows FROM number_wallet.metrics_snapshot();
-- The values are those of the tables and views they summarise.
SELECT (SELECT value FROM number_wallet.metrics_snapshot() WHERE metric = 'ledger_drift_rows')
       = (SELECT count(*) FROM number_wallet.wallet_reconcile()) AS drift_matches,
       (SELECT value FROM number_wallet.metrics_snapshot() WHERE metric = 'wallet_balance' AND currency = 'USD')
       = (SELECT coalesce(sum(balance_usd), 0) FROM number_wallet.wallets) AS usd_matches,
       (SELECT coalesce(sum(value), 0) FROM number_wallet.metrics_snapshot() WHERE metric = 'interventions')
       = (SELECT count(*) FROM number_wallet.numbers_needing_intervention) AS interventions_match,
       (SELECT coalesce(sum(value), 0) FROM number_wallet.metrics_snapshot() WHERE metric = 'ledger_entries')
       = (SELECT count(*) FROM number_wallet.transactions) AS entries_match;

-- The counters move with the ledger: a top-up and a purchase.
CREATE TEMP TABLE met_before AS SELECT * FROM number_wallet.metrics_snapshot();
\set mia '''00000000-0000-0000-0000-000000000333'''
SELECT (number_wallet.wallet_credit(:mia, 20, 'INR'))->>'balance';
SELECT number_wallet.purchase_number(:mia, '+14155553330', 7.5, 'INR') IS NOT NULL AS reserved;
SELECT a.metric, a.key, a.currency, a.value - coalesce(b.value, 0) AS delta
  FROM number_wallet.metrics_snapshot() a
  LEFT JOIN met_before b ON (b.metric, b.key, b.currency) IS NOT DISTINCT FROM (a.metric, a.key, a.currency)
 WHERE a.value IS DISTINCT FROM b.value AND a.metric <> 'ledger_drift_rows'
 ORDER BY 1, 2, 3;

-- A pending purchase older than number_wallet.pending_alert_seconds is overdue.
SET number_wallet.pending_alert_seconds = 1;
SELECT pg_sleep(1.1) IS NOT NULL AS waited;
SELECT value >= 1 AS overdue FROM number_wallet.metrics_snapshot() WHERE metric = 'pending_overdue';
RESET number_wallet.pending_alert_seconds;

-- Service only: an end user is refused even with EXECUTE granted by mistake.
SET ROLE regress_met_svc;
SELECT count(*) > 0 AS service_reads FROM number_wallet.metrics_snapshot();
RESET ROLE;
SET ROLE regress_met_user;
SELECT * FROM number_wallet.metrics_snapshot();
RESET ROLE;
GRANT EXECUTE ON FUNCTION number_wallet.metrics_snapshot() TO regress_met_user;
SET ROLE regress_met_user;
SELECT * FROM number_wallet.metrics_snapshot();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION number_wallet.metrics_snapshot() FROM regress_met_user;
DROP TABLE met_before;
DROP ROLE regress_met_user;
DROP ROLE regress_met_svc;
