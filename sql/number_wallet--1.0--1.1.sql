/* sql/number_wallet--1.0--1.1.sql: number_wallet 1.0 -> 1.1.
 *
 * 1.1 documents the extension in the catalog, so `\d+`, `\df+` and any
 * schema browser tell an operator what each table, column, view and function
 * is for. No table, row, privilege or function body changes.
 *
 * A fresh CREATE EXTENSION runs 1.0 and then this script; an existing 1.0
 * database gets here with ALTER EXTENSION number_wallet UPDATE.
 * test/e2e/upgrade_test.sh checks that both roads end in the same catalog.
 */
\echo Use "ALTER EXTENSION number_wallet UPDATE TO '1.1'" to load this file. \quit

-- Tables and the columns whose meaning is not in their name.
COMMENT ON TABLE @extschema@.wallets IS
  'One prepaid wallet per user; balances only change through the functions, each change with a ledger row.';
COMMENT ON COLUMN @extschema@.wallets.is_active IS 'Kept for the seed''s queries; always true.';

COMMENT ON TABLE @extschema@.business_numbers IS
  'Phone numbers reserved, bought, failed or released by users; at most one held row per phone number.';
COMMENT ON COLUMN @extschema@.business_numbers.status IS
  'pending (reserved, paid, provider purchase under way), active, failed (reversed) or released.';
COMMENT ON COLUMN @extschema@.business_numbers.is_active IS 'status = ''active'', kept by the rules trigger.';
COMMENT ON COLUMN @extschema@.business_numbers.paid_until IS 'End of the paid period; renew_due_numbers extends it.';
COMMENT ON COLUMN @extschema@.business_numbers.refund_window_days IS
  'The refund window in days, number_wallet.refund_window_days taken at confirmation.';
COMMENT ON COLUMN @extschema@.business_numbers.provider_released_at IS
  'When the provider confirmed the deletion; a released number stays held until then.';
COMMENT ON COLUMN @extschema@.business_numbers.provider IS
  'number_wallet.provider at reservation: twilio, or simulator in testing mode.';
COMMENT ON COLUMN @extschema@.business_numbers.idempotency_key IS 'The purchase''s idempotency key, per user.';
COMMENT ON COLUMN @extschema@.business_numbers.renewal_unpaid_since IS
  'Set when a renewal found the funds short; cleared when it is paid.';

COMMENT ON TABLE @extschema@.transactions IS
  'The ledger, append-only: per wallet and currency, ids follow the order of application '
  'and balance_after is the running balance.';
COMMENT ON COLUMN @extschema@.transactions.kind IS 'topup, purchase, reversal, refund, renewal or adjustment.';
COMMENT ON COLUMN @extschema@.transactions.amount IS 'Always positive; type (CREDIT or DEBIT) gives the direction.';
COMMENT ON COLUMN @extschema@.transactions.balance_after IS
  'The wallet''s balance in this currency right after this entry.';
COMMENT ON COLUMN @extschema@.transactions.idempotency_key IS 'The credit''s idempotency key, per user.';

COMMENT ON TABLE @extschema@.discrepancies IS
  'What the reconciler found and could not settle by itself; one open row per finding.';
COMMENT ON COLUMN @extschema@.discrepancies.resolved_at IS 'Set by resolve_discrepancy; NULL while open.';

-- Views.
COMMENT ON VIEW @extschema@.numbers_needing_intervention IS
  'Numbers an operator should look at: pending too long, awaiting provider release, renewal unpaid, open discrepancies.';
COMMENT ON VIEW @extschema@.daily_transaction_summary IS 'Ledger rows and totals per UTC day, type, kind and currency.';
COMMENT ON VIEW @extschema@.purchase_success_rate IS 'Purchases of the last 30 days: confirmed, failed, pending.';

-- The SQL API.
COMMENT ON FUNCTION @extschema@.wallet_credit(uuid, numeric, text, text, text) IS
  'Service: credits a wallet (creating it if missing) with one topup ledger row; idempotent per key.';
COMMENT ON FUNCTION @extschema@.update_wallet_balance_atomic(uuid, numeric, text) IS
  'Service: the seed''s balance change under the wallet lock, with one adjustment ledger row; never below zero.';
COMMENT ON FUNCTION @extschema@.purchase_number(uuid, text, numeric, text, text, text) IS
  'Service: reserves a number and debits its cost in one transaction (pending); idempotent per key.';
COMMENT ON FUNCTION @extschema@.confirm_purchase(uuid, text) IS
  'Service: pending -> active once the provider sold the number; records the sid and the paid period.';
COMMENT ON FUNCTION @extschema@.fail_purchase(uuid, text) IS
  'Service: pending -> failed with the debit reversed, once the provider refused the purchase.';
COMMENT ON FUNCTION @extschema@.refund_quote(uuid, timestamptz) IS
  'User or service: whether a release at p_at would be refunded, and how much (the evaluation release uses).';
COMMENT ON FUNCTION @extschema@.release_number(uuid, uuid) IS
  'User or service: active -> released, refunded inside the refund window.';
COMMENT ON FUNCTION @extschema@.mark_provider_released(uuid) IS
  'Service: the provider deleted the released number; the phone number is free again.';
COMMENT ON FUNCTION @extschema@.renew_due_numbers(integer) IS
  'Service: charges one period of each due number, or leaves it unpaid, or releases it after the grace days.';
COMMENT ON FUNCTION @extschema@.record_discrepancy(text, text, text, uuid, text) IS
  'Service: records a reconciler finding (the same open finding twice is one row).';
COMMENT ON FUNCTION @extschema@.resolve_discrepancy(bigint, text) IS 'Service: closes a finding with a note.';
COMMENT ON FUNCTION @extschema@.grant_end_user(regrole) IS
  'Makes a role an end user: number_wallet_user and the same privileges directly (for NOINHERIT roles).';
COMMENT ON FUNCTION @extschema@.wallet_reconcile() IS
  'Service: one row per balance that differs from its ledger and per number whose entries break the rules; empty when all is well.';
COMMENT ON FUNCTION @extschema@.row_visible(uuid) IS 'Row-level security: whether the caller may see this user''s rows.';
COMMENT ON FUNCTION @extschema@.snapshot_sees(xid) IS 'Internal to purchase_number.';
COMMENT ON FUNCTION @extschema@.boundary_selftest(text) IS 'Superuser: proves the C++/PostgreSQL error guard.';
