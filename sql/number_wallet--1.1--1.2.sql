/* sql/number_wallet--1.1--1.2.sql: number_wallet 1.1 -> 1.2.
 *
 * A fresh CREATE EXTENSION runs 1.0, 1.1 and then this script; an existing
 * database gets here with ALTER EXTENSION number_wallet UPDATE.
 * test/e2e/upgrade_test.sh checks that both roads end in the same catalog.
 */
\echo Use "ALTER EXTENSION number_wallet UPDATE TO '1.2'" to load this file. \quit

-- ==== renewal fairness and billing periods (ext-b) ====
-- renew_due_numbers picks the due numbers not tried since they fell due first,
-- then the ones it left unpaid, least recently tried first, at most hourly
-- (DESIGN §2 "Renewal fairness"); renewal_attempted_at records the last try.
ALTER TABLE @extschema@.business_numbers ADD COLUMN renewal_attempted_at timestamptz;
COMMENT ON COLUMN @extschema@.business_numbers.renewal_attempted_at IS
  'When a renewal pass last found the funds short for the current period; NULL when not tried since it fell due. '
  'Retried at most hourly; only a number tried before may be released by the grace rule.';
-- Numbers an earlier version left unpaid were tried: their last try is their last update.
UPDATE @extschema@.business_numbers SET renewal_attempted_at = updated_at
 WHERE status = 'active' AND renewal_unpaid_since IS NOT NULL;
-- One index serves the pass order (and replaces the one on paid_until alone):
-- only active numbers, so a purchase (pending) writes no entry to it.
DROP INDEX @extschema@.business_numbers_due;
CREATE INDEX business_numbers_renewal ON @extschema@.business_numbers (renewal_attempted_at, paid_until)
  WHERE status = 'active';
COMMENT ON COLUMN @extschema@.business_numbers.paid_until IS
  'End of the paid period: purchase_date plus whole months in UTC, on the day of the month of the purchase '
  '(the last day in shorter months); renew_due_numbers extends it.';
