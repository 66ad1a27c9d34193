-- import_seed (docs/sql-api.md "Importing a seed deployment"): each rule and
-- each conflict on the fixture test/fixtures/seed/basic.sql, the dry run, the
-- second run, a failed import leaving nothing, and another seed shape
-- (test/fixtures/seed/single_balance.sql).
\set VERBOSITY terse
SET client_min_messages = warning;
-- (pg_regress runs from the project's top directory; the fixtures are not echoed)
\set ECHO none
\i test/fixtures/seed/basic.sql
\i test/fixtures/seed/single_balance.sql
\set ECHO all
RESET client_min_messages;

-- The signature: (p_schema name DEFAULT 'public', p_dry_run boolean DEFAULT true) RETURNS jsonb.
SELECT pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS result,
       p.prosecdef AS security_definer, p.proacl IS NOT NULL AS public_revoked
  FROM pg_proc p WHERE p.proname = 'import_seed' AND p.pronamespace = 'number_wallet'::regnamespace;

-- Set up here first: a number held here with n15's phone number, and one with n16's sid.
SELECT (number_wallet.wallet_credit('5eed0000-0000-4000-8000-0000000000ff', 100))->>'balance' AS native_balance;
SELECT nw_bought('5eed0000-0000-4000-8000-0000000000ff', '+16285550115', 8, 'PN5eedffff000000000000000000000015') IS NOT NULL AS phone_held;
SELECT nw_bought('5eed0000-0000-4000-8000-0000000000ff', '+447700900116', 8, 'PN5eed0000000000000000000000000016') IS NOT NULL AS sid_held;

-- Who may import: a superuser or the extension's owner only.
CREATE ROLE regress_nw_import_service LOGIN;
GRANT number_wallet_service TO regress_nw_import_service;
GRANT USAGE ON SCHEMA seed_basic TO regress_nw_import_service;
GRANT EXECUTE ON FUNCTION number_wallet.import_seed(name, boolean) TO regress_nw_import_service;
SET ROLE regress_nw_import_service;
SELECT nw_try($$SELECT number_wallet.import_seed('seed_basic', true)$$) AS service_refused;
RESET ROLE;
SELECT count(*) AS execute_taken_back FROM information_schema.routine_privileges
 WHERE routine_name = 'import_seed' AND grantee = 'regress_nw_import_service';

-- Clear errors for what is not a seed deployment.
SELECT nw_try($$SELECT number_wallet.import_seed('no_such_schema')$$) AS no_schema;
CREATE SCHEMA seed_empty;
SELECT nw_try($$SELECT number_wallet.import_seed('seed_empty')$$) AS no_tables;
SELECT nw_try($$SELECT number_wallet.import_seed(NULL)$$) AS null_schema;
SELECT nw_try($$SELECT number_wallet.import_seed('seed_basic', NULL)$$) AS null_dry_run;
SELECT nw_try($$SELECT number_wallet.import_seed('number_wallet', true)$$) AS from_itself;

-- The dry run (the default) says exactly what would happen and changes nothing.
SELECT nw_money_state() AS before_dry_run \gset
SELECT count(*) AS discrepancies_before FROM number_wallet.discrepancies \gset
SELECT number_wallet.import_seed('seed_basic') AS dry \gset
SELECT (:'dry'::jsonb) - 'skipped' - 'balance_mismatches' AS dry_run_report;
SELECT s->>'table' AS tbl, s->>'id' AS id, s->>'reason' AS reason, s->>'detail' AS detail
  FROM jsonb_array_elements((:'dry'::jsonb)->'skipped') s;
SELECT jsonb_pretty((:'dry'::jsonb)->'balance_mismatches') AS balance_mismatches;
SELECT nw_money_state() = :'before_dry_run' AS dry_run_changed_nothing,
       (SELECT count(*) FROM number_wallet.discrepancies) = :discrepancies_before AS no_discrepancy_recorded,
       (SELECT count(*) FROM number_wallet.imported_transactions) AS history_rows,
       (SELECT count(*) FROM number_wallet.seed_imports) AS import_runs;
SELECT jsonb_typeof((:'dry'::jsonb)->'wallets') AS counts_are, (:'dry'::jsonb)->'dry_run' AS dry_run;

-- The import.
SELECT number_wallet.import_seed('seed_basic', false) AS run1 \gset
SELECT (:'run1'::jsonb) - 'skipped' - 'balance_mismatches' AS import_report;
SELECT ((:'run1'::jsonb) - 'dry_run') = ((:'dry'::jsonb) - 'dry_run') AS same_as_dry_run;

-- Wallets: the seed's ids and users, each non-zero balance explained by one opening adjustment.
SELECT w.id, w.user_id, w.balance_usd, w.balance_inr, w.is_active, w.imported_at IS NOT NULL AS imported,
       w.created_at AT TIME ZONE 'UTC' AS created_at
  FROM number_wallet.wallets w WHERE w.user_id::text LIKE '5eed0000-%' AND w.imported_at IS NOT NULL ORDER BY w.user_id;
SELECT t.user_id, t.type, t.kind, t.amount, t.currency, t.balance_after, t.description, t.number_id
  FROM number_wallet.transactions t WHERE t.user_id::text LIKE '5eed0000-%' AND t.user_id <> '5eed0000-0000-4000-8000-0000000000ff'
 ORDER BY t.id;
-- Numbers: active, the seed's sid and cost, provider twilio, USD, normalised phone numbers.
SELECT n.id, n.user_id, n.phone_number, n.display_name, n.twilio_sid, n.status, n.is_active, n.monthly_cost, n.currency,
       n.provider, n.refund_window_days, n.imported_at IS NOT NULL AS imported
  FROM number_wallet.business_numbers n WHERE n.id::text LIKE '5eedbb00-%' ORDER BY n.id;
-- purchase_date: the seed's, or the import time when it had none; paid_until:
-- the first monthly anniversary of the purchase after the import (UTC, the
-- purchase's day of the month: Jan 31 -> the last day of shorter months).
SELECT n.id,
       CASE WHEN n.id = '5eedbb00-0000-4000-8000-000000000003' THEN n.purchase_date = n.imported_at
            ELSE n.purchase_date = s.purchase_date END AS purchase_date_ok,
       n.paid_until = (SELECT min(a) FROM generate_series(1, 1200) k,
                         LATERAL (SELECT ((coalesce(s.purchase_date, n.imported_at) AT TIME ZONE 'UTC')
                                          + make_interval(months => k)) AT TIME ZONE 'UTC' AS a) x
                        WHERE a > n.imported_at) AS paid_until_is_next_anniversary,
       n.paid_until > now() AS in_future
  FROM number_wallet.business_numbers n JOIN seed_basic.business_numbers s ON s.id = n.id ORDER BY n.id;
SELECT extract(day FROM paid_until AT TIME ZONE 'UTC') IN (28, 29, 30, 31) AS jan31_anchor_kept,
       extract(day FROM paid_until AT TIME ZONE 'UTC') = 31
         OR extract(day FROM (paid_until AT TIME ZONE 'UTC') + interval '1 day') = 1 AS last_day_or_31st
  FROM number_wallet.business_numbers WHERE id = '5eedbb00-0000-4000-8000-000000000002';
-- PAYMENT PROCESSING FAILED: a discrepancy (the sid read from the seed's note), no number.
SELECT kind, phone_number, twilio_sid, number_id, resolved_at IS NULL AS open, left(detail, 80) AS detail
  FROM number_wallet.discrepancies WHERE kind = 'imported_payment_failed';
SELECT count(*) AS numbers_for_failed_payment FROM number_wallet.business_numbers
 WHERE id = '5eedbb00-0000-4000-8000-000000000005';
-- The seed's history, unchanged, with every column.
SELECT t.id, t.user_id, t.type, t.amount, t.currency, t.description, t.seed_row->'metadata' AS metadata,
       t.seed_row = to_jsonb(s) AS whole_row_kept, t.source_schema
  FROM number_wallet.imported_transactions t JOIN seed_basic.transactions s ON s.id = t.id ORDER BY t.id;
SELECT source_schema, report = :'run1'::jsonb AS report_kept FROM number_wallet.seed_imports;
-- Every invariant holds afterwards.
SELECT count(*) AS reconcile_rows FROM number_wallet.wallet_reconcile();

-- The second run imports nothing again and reports what it had imported.
SELECT nw_money_state() AS after_run1 \gset
SELECT number_wallet.import_seed('seed_basic', false) AS run2 \gset
SELECT (:'run2'::jsonb) - 'skipped' - 'balance_mismatches' AS second_report;
SELECT (:'run2'::jsonb)->'skipped' = (:'run1'::jsonb)->'skipped' AS same_skipped,
       (:'run2'::jsonb)->'balance_mismatches' = (:'run1'::jsonb)->'balance_mismatches' AS same_mismatches,
       nw_money_state() = :'after_run1' AS nothing_changed,
       (SELECT count(*) FROM number_wallet.discrepancies WHERE kind = 'imported_payment_failed') AS failed_payment_findings,
       (SELECT count(*) FROM number_wallet.imported_transactions) AS history_rows;
-- A resolved finding is not recorded again.
SELECT (number_wallet.resolve_discrepancy(id, 'charged by hand'))->>'kind' AS resolved
  FROM number_wallet.discrepancies WHERE kind = 'imported_payment_failed';
SELECT (number_wallet.import_seed('seed_basic', false))->'created' AS third_run_created;
SELECT count(*) AS failed_payment_findings FROM number_wallet.discrepancies WHERE kind = 'imported_payment_failed';

-- Refunds: an imported number has no purchase entry; released inside the
-- refund window (from its purchase date) it is refunded its monthly cost once.
SELECT q->>'eligible' AS eligible, q->>'reason' AS reason, q->>'amount' AS amount, q->>'currency' AS currency,
       q->>'days_since_purchase' AS days
  FROM number_wallet.refund_quote('5eedbb00-0000-4000-8000-000000000001') q;
SELECT number_wallet.release_number('5eed0000-0000-4000-8000-000000000001', '5eedbb00-0000-4000-8000-000000000001') - 'number_id' AS release_in_window;
SELECT number_wallet.release_number('5eed0000-0000-4000-8000-000000000001', '5eedbb00-0000-4000-8000-000000000001') -> 'refund' AS repeat_refunds_nothing_more;
-- Bought on 2025-01-31: the window has passed, nothing refunded.
SELECT (number_wallet.refund_quote('5eedbb00-0000-4000-8000-000000000002'))->>'reason' AS old_number;
SELECT number_wallet.release_number('5eed0000-0000-4000-8000-000000000001', '5eedbb00-0000-4000-8000-000000000002') -> 'refund' AS release_after_window;
SELECT balance_usd FROM number_wallet.wallets WHERE user_id = '5eed0000-0000-4000-8000-000000000001';
SELECT kind, type, amount, currency, balance_after, description FROM number_wallet.transactions
 WHERE number_id IN ('5eedbb00-0000-4000-8000-000000000001', '5eedbb00-0000-4000-8000-000000000002') ORDER BY id;
SELECT count(*) AS reconcile_rows FROM number_wallet.wallet_reconcile();

-- wallet_reconcile still catches a broken imported number: a purchase entry it should not have.
BEGIN;
WITH w AS (UPDATE number_wallet.wallets SET balance_usd = balance_usd - 1
            WHERE user_id = '5eed0000-0000-4000-8000-000000000002' RETURNING id, user_id, balance_usd)
INSERT INTO number_wallet.transactions (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id)
SELECT id, user_id, 'DEBIT', 'purchase', 1, 'USD', balance_usd, 'Phone number purchase: +16285550103',
       '5eedbb00-0000-4000-8000-000000000003' FROM w;
SELECT kind, number_id, detail FROM number_wallet.wallet_reconcile();
ROLLBACK;

-- Renewals bill an imported number from its next monthly anniversary (moved
-- into the past here): one renewal debit, paid_until one month on, on the anchor.
UPDATE number_wallet.business_numbers
   SET purchase_date = now() - interval '1 month 2 days', paid_until = now() - interval '2 days'
 WHERE id = '5eedbb00-0000-4000-8000-000000000003';
SELECT (number_wallet.wallet_credit('5eed0000-0000-4000-8000-000000000002', 10))->>'balance' AS topped_up;
SELECT number_wallet.renew_due_numbers(1000) IS NOT NULL AS renewal_pass_ran;
SELECT kind, type, amount, balance_after, description LIKE 'Renewal: +16285550103 %' AS described
  FROM number_wallet.transactions WHERE number_id = '5eedbb00-0000-4000-8000-000000000003';
SELECT paid_until = ((purchase_date AT TIME ZONE 'UTC') + interval '2 months') AT TIME ZONE 'UTC' AS next_anniversary
  FROM number_wallet.business_numbers WHERE id = '5eedbb00-0000-4000-8000-000000000003';
SELECT count(*) AS reconcile_rows FROM number_wallet.wallet_reconcile();

-- A failed import leaves nothing half done: a row refused late (here by a
-- trigger the test adds) rolls back every wallet, number and history row.
CREATE FUNCTION public.regress_refuse_seed_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.phone_number = '+442071838750' THEN
    RAISE EXCEPTION 'refused by the test';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER regress_refuse_seed_number BEFORE INSERT ON number_wallet.business_numbers
  FOR EACH ROW EXECUTE FUNCTION public.regress_refuse_seed_number();
SELECT nw_money_state() AS before_failed \gset
SELECT nw_try($$SELECT number_wallet.import_seed('seed_single', false)$$) AS failed_import;
SELECT nw_money_state() = :'before_failed' AS nothing_changed,
       (SELECT count(*) FROM number_wallet.imported_transactions WHERE source_schema = 'seed_single') AS history_rows,
       (SELECT count(*) FROM number_wallet.seed_imports WHERE source_schema = 'seed_single') AS runs;
DROP TRIGGER regress_refuse_seed_number ON number_wallet.business_numbers;
DROP FUNCTION public.regress_refuse_seed_number();

-- Another shape: one balance column with a currency, transactions naming their wallet.
SELECT number_wallet.import_seed('seed_single', false) AS single \gset
SELECT (:'single'::jsonb) - 'schema' AS single_report;
SELECT user_id, balance_usd, balance_inr FROM number_wallet.wallets WHERE user_id::text LIKE '5eed0001-%' ORDER BY user_id;
SELECT count(*) AS reconcile_rows FROM number_wallet.wallet_reconcile();

-- The remaining conflicts, on a seed whose ids are text: ids that are not
-- uuids, a user who already has a wallet here (its seed balance is not added;
-- its number joins the wallet it has), a balance or cost with three decimals,
-- a sid that is not one, a number priced in EUR, a transaction of unknown type.
CREATE SCHEMA seed_odd;
CREATE TABLE seed_odd.wallets (id text, user_id text, balance_usd numeric(14,3), balance_inr numeric);
CREATE TABLE seed_odd.business_numbers (id text, user_id text, phone_number text, twilio_sid text, is_active boolean,
                                        monthly_cost numeric(10,3), currency text, purchase_date timestamptz);
CREATE TABLE seed_odd.transactions (id text, user_id text, type text, amount numeric, currency text);
INSERT INTO seed_odd.wallets VALUES
  ('wallet-1', '5eed0002-0000-4000-8000-000000000001', 1, 0),
  ('5eedaa02-0000-4000-8000-000000000002', 'user-2', 1, 0),
  ('5eedaa02-0000-4000-8000-000000000003', '5eed0000-0000-4000-8000-0000000000ff', 50, 0),
  ('5eedaa02-0000-4000-8000-000000000004', '5eed0002-0000-4000-8000-000000000004', 1.005, 0),
  ('5eedaa02-0000-4000-8000-000000000005', '5eed0002-0000-4000-8000-000000000005', 7, 0);
INSERT INTO seed_odd.business_numbers VALUES
  ('number-1', '5eed0002-0000-4000-8000-000000000005', '+16285550201', 'PN5eed0002000000000000000000000001', true, 1, NULL, NULL),
  ('5eedbb02-0000-4000-8000-000000000002', '5eed0002-0000-4000-8000-000000000005', '+16285550202', 'not a sid!', true, 1, NULL, NULL),
  ('5eedbb02-0000-4000-8000-000000000003', '5eed0002-0000-4000-8000-000000000005', '+16285550203', 'PN5eed0002000000000000000000000003', true, 1.005, NULL, NULL),
  ('5eedbb02-0000-4000-8000-000000000004', '5eed0002-0000-4000-8000-000000000005', '+16285550204', 'PN5eed0002000000000000000000000004', true, 1, 'EUR', NULL),
  ('5eedbb02-0000-4000-8000-000000000005', '5eed0000-0000-4000-8000-0000000000ff', '+16285550205', 'PN5eed0002000000000000000000000005', true, 2, 'usd', now() - interval '1 hour'),
  ('5eedbb01-0000-4000-8000-000000000001', '5eed0002-0000-4000-8000-000000000005', '+16285550206', 'PN5eed0002000000000000000000000006', true, 1, NULL, NULL);
INSERT INTO seed_odd.transactions VALUES
  ('transaction-1', '5eed0002-0000-4000-8000-000000000005', 'CREDIT', 7, 'USD'),
  ('5eedcc02-0000-4000-8000-000000000002', '5eed0002-0000-4000-8000-000000000005', 'GIFT', 1, 'USD'),
  ('5eedcc02-0000-4000-8000-000000000003', 'nobody', 'CREDIT', 1, 'USD');
SELECT number_wallet.import_seed('seed_odd', false) AS odd \gset
SELECT (:'odd'::jsonb) - 'skipped' - 'schema' - 'balance_mismatches' AS odd_report;
SELECT m->>'user_id' AS user_id, m->>'currency' AS currency, m->>'balance' AS balance,
       m->>'transactions_total' AS transactions_total
  FROM jsonb_array_elements((:'odd'::jsonb)->'balance_mismatches') m;
SELECT s->>'table' AS tbl, s->>'id' AS id, s->>'reason' AS reason, s->>'detail' AS detail
  FROM jsonb_array_elements((:'odd'::jsonb)->'skipped') s;
-- The native wallet kept its balance; the seed number joined it.
SELECT w.balance_usd, w.imported_at IS NULL AS native,
       (SELECT count(*) FROM number_wallet.business_numbers n
         WHERE n.user_id = w.user_id AND n.imported_at IS NOT NULL) AS imported_numbers
  FROM number_wallet.wallets w WHERE w.user_id = '5eed0000-0000-4000-8000-0000000000ff';
SELECT count(*) AS reconcile_rows FROM number_wallet.wallet_reconcile();

-- An operator's release of an imported number refunds its monthly cost, as a
-- user's release does (it has no purchase entry), and the ledger still agrees.
SELECT r->'refund' AS operator_refund, r->>'status' AS status
  FROM number_wallet.force_release((SELECT id FROM number_wallet.business_numbers WHERE phone_number = '+16285550205'),
                                   true, 'imported number returned by support') r;
SELECT count(*) AS reconcile_rows_after_operator_release FROM number_wallet.wallet_reconcile();

REVOKE USAGE ON SCHEMA seed_basic FROM regress_nw_import_service;
DROP ROLE regress_nw_import_service;
