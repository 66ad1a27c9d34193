/* sql/number_wallet.sql: the number_wallet extension as it is now, in one
 * script (docs/sql-api.md is the reference for callers).
 *
 * This is the schema to read: every table, index, trigger, policy, function
 * and view, each with its comment and its privileges beside it, grouped by
 * concern. The build copies it to number_wallet--<default_version>.sql (the
 * Makefile's DATA_built), the script a fresh CREATE EXTENSION runs.
 *
 * Databases made by an earlier version reach the same state through the
 * released scripts, which never change: number_wallet--1.0.sql and the update
 * scripts number_wallet--A--B.sql. A change to the schema is made twice: here,
 * and in a new update script (with default_version in
 * extension/number_wallet.control). test/e2e/upgrade_test.sh checks that a
 * fresh install and every update path end in the same catalog: function
 * bodies, privileges, comments, policies, indexes, triggers, columns.
 *
 * Two rules for this file: a column is added at the end of its table (the
 * update scripts can only append), and PL/pgSQL bodies are text the update
 * scripts must repeat byte for byte.
 *
 * Contents, in order:
 *   roles and the schema
 *   internal helpers (_claimed_user, _require_service, _row_visible, _setting)
 *   trigger functions (row rules, append-only tables)
 *   tables: wallets, business_numbers, transactions (the ledger),
 *           discrepancies, imported_transactions, seed_imports, audit_log
 *   the SQL API: wallets, purchases, releases, renewals
 *   the reconciler: record_discrepancy, wallet_reconcile
 *   operator actions (_audit_write, force_*, adjust_balance, resolve_discrepancy)
 *   views: monitoring, the shim's reads (api_*)
 *   operations: metrics_snapshot, import_seed, grant_end_user
 *   guards: keep_privileges, drop_guard, _boundary_selftest
 */
\echo Use "CREATE EXTENSION number_wallet" to load this file. \quit

-- ===========================================================================
-- Roles and the schema
-- ===========================================================================

-- Roles are cluster-wide: create them only if an earlier install did not.
-- number_wallet_user: end users, who read their own rows and release their
-- numbers; number_wallet_service: trusted back ends such as the shim.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'number_wallet_user') THEN
    CREATE ROLE number_wallet_user NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'number_wallet_service') THEN
    CREATE ROLE number_wallet_service NOLOGIN;
  END IF;
END
$roles$;

-- PUBLIC can call nothing and read nothing: every object below revokes PUBLIC's
-- default privileges and grants what each role needs, beside its definition.
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO number_wallet_user, number_wallet_service;

-- ===========================================================================
-- Internal helpers: who is calling, and the settings (C, caller.cpp)
--
-- Names that begin with an underscore are not API (docs/sql-api.md
-- "Internal functions"); the policies and the functions below use them.
-- ===========================================================================

-- The row-level security policies of the end users compare user_id with
-- (SELECT _claimed_user()): evaluated once per statement, an index condition.
CREATE FUNCTION @extschema@._claimed_user() RETURNS uuid
AS 'MODULE_PATHNAME', 'nw_claimed_user' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@._claimed_user() IS
  'Internal (row-level security): the user a trusted end user''s claims name, or NULL for anyone else.';
REVOKE ALL ON FUNCTION @extschema@._claimed_user() FROM PUBLIC;
-- Policies run with the querying role's rights: whoever may read the tables needs it.
GRANT EXECUTE ON FUNCTION @extschema@._claimed_user() TO number_wallet_user, number_wallet_service;

-- The caller check of the service-only functions written in PL/pgSQL, the same
-- rule as the C ones: EXECUTE granted by mistake (or by a blanket GRANT) opens
-- nothing. It runs only inside SECURITY DEFINER functions, as the owner.
CREATE FUNCTION @extschema@._require_service(p_function text) RETURNS void
AS 'MODULE_PATHNAME', 'nw_require_service' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@._require_service(text) IS
  'Internal: refuses (42501) a caller that is not the service role or a superuser.';
REVOKE ALL ON FUNCTION @extschema@._require_service(text) FROM PUBLIC;

-- The row rule of 1.0's policies, kept for the grants end users hold on it.
CREATE FUNCTION @extschema@._row_visible(p_user_id uuid) RETURNS boolean
AS 'MODULE_PATHNAME', 'nw_row_visible' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@._row_visible(uuid) IS
  'Internal: whether the caller may see this user''s rows; no policy uses it since 1.2 (they compare user_id '
  'with _claimed_user()).';
REVOKE ALL ON FUNCTION @extschema@._row_visible(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._row_visible(uuid) TO number_wallet_user, number_wallet_service;

-- The settings (docs/sql-api.md "Settings") and their defaults are defined by
-- the library, once (extension/settings.hpp); SQL reads them through
-- _setting(), which loads the library first, and never repeats a default.
CREATE FUNCTION @extschema@._setting(p_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Calling a C function loads the library, which defines every number_wallet.* setting with its default.
  PERFORM number_wallet._claimed_user();
  RETURN current_setting(p_name);
END
$$;
COMMENT ON FUNCTION @extschema@._setting(text) IS
  'Internal: a number_wallet.* setting''s value, its default taken from the library (extension/settings.hpp).';
REVOKE ALL ON FUNCTION @extschema@._setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._setting(text) TO number_wallet_service;

-- ===========================================================================
-- Trigger functions: row rules and append-only tables
-- ===========================================================================

-- Row rules (what CHECK constraints would say) as C triggers: PostgreSQL
-- re-plans CHECK expressions at every statement start, a fifth of a
-- purchase's CPU; see extension/row_rules.cpp. Wallet balances keep their CHECKs.
CREATE FUNCTION @extschema@.business_numbers_rules() RETURNS trigger
AS 'MODULE_PATHNAME', 'nw_business_numbers_rules' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.business_numbers_rules() IS
  'Trigger: the row rules of business_numbers (what CHECK constraints would say), in C; see row_rules.cpp.';
REVOKE ALL ON FUNCTION @extschema@.business_numbers_rules() FROM PUBLIC;

CREATE FUNCTION @extschema@.transactions_rules() RETURNS trigger
AS 'MODULE_PATHNAME', 'nw_transactions_rules' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.transactions_rules() IS
  'Trigger: the row rules of the ledger (what CHECK constraints would say), in C; see row_rules.cpp.';
REVOKE ALL ON FUNCTION @extschema@.transactions_rules() FROM PUBLIC;

-- The ledger refuses UPDATE, DELETE and TRUNCATE, even from its owner.
CREATE FUNCTION @extschema@.refuse_ledger_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'number_wallet.transactions is append-only'
    USING ERRCODE = '42501',
          DETAIL = pg_catalog.format('%s is not allowed on the ledger.', TG_OP),
          HINT = 'Correct a mistake with a new entry (an adjustment), never by changing an old one.';
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_ledger_change() IS
  'Trigger: the ledger refuses UPDATE, DELETE and TRUNCATE, even from its owner.';
REVOKE ALL ON FUNCTION @extschema@.refuse_ledger_change() FROM PUBLIC;

-- TRUNCATE, which row-level security does not cover, is refused on every
-- table: balances, numbers and findings are tied to the append-only ledger.
CREATE FUNCTION @extschema@.refuse_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'TRUNCATE is not allowed on %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = '42501',
          DETAIL = 'Wallets, numbers and findings are tied to the append-only ledger.',
          HINT = 'They change only through the number_wallet functions.';
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_truncate() IS 'Trigger: TRUNCATE is refused on every table of the extension.';
REVOKE ALL ON FUNCTION @extschema@.refuse_truncate() FROM PUBLIC;

-- Imported history does not change: UPDATE, DELETE and TRUNCATE are refused.
CREATE FUNCTION @extschema@.refuse_history_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = '42501',
          DETAIL = pg_catalog.format('%s is not allowed on imported history.', TG_OP);
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_history_change() IS
  'Trigger: imported_transactions and seed_imports refuse UPDATE, DELETE and TRUNCATE.';
REVOKE ALL ON FUNCTION @extschema@.refuse_history_change() FROM PUBLIC;

-- The audit log is append-only like the ledger.
CREATE FUNCTION @extschema@.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'number_wallet.audit_log is append-only'
    USING ERRCODE = '42501',
          DETAIL = pg_catalog.format('%s is not allowed on the audit log.', TG_OP),
          HINT = 'The audit log records what was done; it is never rewritten.';
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_audit_change() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on audit_log.';
REVOKE ALL ON FUNCTION @extschema@.refuse_audit_change() FROM PUBLIC;

-- ===========================================================================
-- Tables
--
-- No foreign keys between them: the functions are the only writers,
-- wallet_reconcile() audits the links, and pg_dump restores extension
-- configuration tables in an order foreign keys would not survive. Each table
-- is registered with pg_extension_config_dump, so pg_dump keeps its rows (and
-- its identity sequence's position). Row-level security is on everywhere, with
-- SELECT policies only: no role but the owner (the SECURITY DEFINER functions)
-- writes a row. Every trigger is ENABLE ALWAYS, so it also holds under
-- session_replication_role = replica (logical replication apply, restores).
-- ===========================================================================

-- ---- wallets --------------------------------------------------------------
CREATE TABLE @extschema@.wallets (
  id                  uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
  user_id             uuid NOT NULL UNIQUE,
  balance_usd         numeric(14,2) NOT NULL DEFAULT 0 CHECK (balance_usd >= 0),
  balance_inr         numeric(14,2) NOT NULL DEFAULT 0 CHECK (balance_inr >= 0),
  is_active           boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  updated_at          timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  imported_at         timestamptz,                                                       -- 1.3
  -- The rate limit's per-hour counters (1.3): purchase_number counts each
  -- user's reservations per clock hour on the wallet row it locks anyway; only
  -- when the current and the previous hour together reach
  -- number_wallet.max_purchases_per_hour does it count the rolling hour exactly
  -- over business_numbers (extension/purchase_functions.cpp).
  purchases_hour      timestamptz,
  purchases_this_hour integer NOT NULL DEFAULT 0 CHECK (purchases_this_hour >= 0),
  purchases_last_hour integer NOT NULL DEFAULT 0 CHECK (purchases_last_hour >= 0)
);
COMMENT ON TABLE @extschema@.wallets IS
  'One prepaid wallet per user; balances only change through the functions, each change with a ledger row.';
COMMENT ON COLUMN @extschema@.wallets.is_active IS 'Kept for the seed''s queries; always true.';
COMMENT ON COLUMN @extschema@.wallets.imported_at IS
  'Set when import_seed created this wallet from a seed deployment (its id is the seed wallet''s id).';
COMMENT ON COLUMN @extschema@.wallets.purchases_hour IS
  'The clock hour (UTC) that purchases_this_hour counts; kept by purchase_number.';
COMMENT ON COLUMN @extschema@.wallets.purchases_this_hour IS
  'Numbers the user reserved in purchases_hour (an upper bound for the rate limit''s fast path).';
COMMENT ON COLUMN @extschema@.wallets.purchases_last_hour IS
  'Numbers the user reserved in the clock hour before purchases_hour.';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.wallets', '');
CREATE TRIGGER wallets_no_truncate BEFORE TRUNCATE ON @extschema@.wallets
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
ALTER TABLE @extschema@.wallets ENABLE ALWAYS TRIGGER wallets_no_truncate;
-- An end user reads its own wallet; the service role every wallet.
ALTER TABLE @extschema@.wallets ENABLE ROW LEVEL SECURITY;
CREATE POLICY wallets_visible ON @extschema@.wallets FOR SELECT USING (user_id = (SELECT @extschema@._claimed_user()));
CREATE POLICY wallets_service ON @extschema@.wallets FOR SELECT TO number_wallet_service USING (true);
REVOKE ALL ON @extschema@.wallets FROM PUBLIC;
GRANT SELECT ON @extschema@.wallets TO number_wallet_user, number_wallet_service;

-- ---- business_numbers -----------------------------------------------------
CREATE TABLE @extschema@.business_numbers (
  id                   uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
  user_id              uuid NOT NULL,
  phone_number         text NOT NULL,
  display_name         text,
  twilio_sid           text UNIQUE,
  status               text NOT NULL DEFAULT 'pending',
  is_active            boolean NOT NULL DEFAULT false,
  monthly_cost         numeric(14,2) NOT NULL,
  currency             text NOT NULL,
  purchase_date        timestamptz,
  paid_until           timestamptz,
  refund_window_days   integer,
  released_at          timestamptz,
  provider_released_at timestamptz,
  failure_reason       text,
  provider             text NOT NULL DEFAULT 'twilio',
  notes                text,
  idempotency_key      text,
  renewal_unpaid_since timestamptz,
  created_at           timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  updated_at           timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  renewal_attempted_at timestamptz,                                                      -- 1.2
  imported_at          timestamptz                                                       -- 1.3
);
COMMENT ON TABLE @extschema@.business_numbers IS
  'Phone numbers reserved, bought, failed or released by users; at most one held row per phone number.';
COMMENT ON COLUMN @extschema@.business_numbers.status IS
  'pending (reserved, paid, provider purchase under way), active, failed (reversed) or released.';
COMMENT ON COLUMN @extschema@.business_numbers.is_active IS 'status = ''active'', kept by the rules trigger.';
COMMENT ON COLUMN @extschema@.business_numbers.paid_until IS
  'End of the paid period: purchase_date plus whole months in UTC, on the day of the month of the purchase '
  '(the last day in shorter months); renew_due_numbers extends it.';
COMMENT ON COLUMN @extschema@.business_numbers.refund_window_days IS
  'The refund window in days, number_wallet.refund_window_days taken at confirmation.';
COMMENT ON COLUMN @extschema@.business_numbers.provider_released_at IS
  'When the provider confirmed the deletion; a released number stays held until then.';
COMMENT ON COLUMN @extschema@.business_numbers.provider IS
  'number_wallet.provider at reservation: twilio, or simulator in testing mode.';
COMMENT ON COLUMN @extschema@.business_numbers.idempotency_key IS 'The purchase''s idempotency key, per user.';
COMMENT ON COLUMN @extschema@.business_numbers.renewal_unpaid_since IS
  'Set when a renewal found the funds short; cleared when it is paid.';
COMMENT ON COLUMN @extschema@.business_numbers.renewal_attempted_at IS
  'When a renewal pass last found the funds short for the current period; NULL when not tried since it fell due. '
  'Retried at most hourly; only a number tried before may be released by the grace rule.';
COMMENT ON COLUMN @extschema@.business_numbers.imported_at IS
  'Set when import_seed created this number from a seed deployment (its id is the seed row''s id). '
  'An imported number has no purchase ledger entry: its monthly cost stands for the purchase in refunds.';

-- The held-number rule: at most one row per phone number is held, that is
-- pending, active, or released and not yet deleted at the provider. This index
-- is where the predicate is defined. Two places repeat it and must agree:
--   * api_numbers.held (below), what the shim and import_seed ask;
--   * HELD_PREDICATE in extension/purchase_functions.cpp, purchase_number's
--     ON CONFLICT target, which must spell the index's predicate for
--     PostgreSQL to infer the index.
-- test/regress/sql/api_views.sql checks the view against it.
CREATE UNIQUE INDEX business_numbers_held_phone_number ON @extschema@.business_numbers (phone_number)
  WHERE (status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL));
COMMENT ON INDEX @extschema@.business_numbers_held_phone_number IS
  'The held-number rule: at most one row holds a phone number (pending, active, or released and not yet deleted '
  'at the provider). Its predicate is repeated by api_numbers.held and by purchase_number''s ON CONFLICT target.';
CREATE UNIQUE INDEX business_numbers_idempotency_key ON @extschema@.business_numbers (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- A user's numbers newest first, in the whole order of the shim's list (created_at, id), so that a page is an
-- index range that stops at its LIMIT under any plan; also the purchase rate limit's (user_id, created_at) range.
CREATE INDEX business_numbers_user_created ON @extschema@.business_numbers (user_id, created_at, id);
COMMENT ON INDEX @extschema@.business_numbers_user_created IS
  'A user''s numbers in (created_at, id) order: the number list''s pages and the purchase rate limit.';
-- The renewal pass order (docs/sql-api.md "Renewal fairness"): only active
-- numbers, so a purchase (pending) writes no entry to it.
CREATE INDEX business_numbers_renewal ON @extschema@.business_numbers (renewal_attempted_at, paid_until)
  WHERE status = 'active';
-- What the reconciler settles: pending purchases and releases not yet confirmed by the provider.
CREATE INDEX business_numbers_unsettled ON @extschema@.business_numbers (created_at)
  WHERE status = 'pending' OR (status = 'released' AND provider_released_at IS NULL);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.business_numbers', '');
CREATE TRIGGER business_numbers_rules BEFORE INSERT OR UPDATE ON @extschema@.business_numbers
  FOR EACH ROW EXECUTE FUNCTION @extschema@.business_numbers_rules();
CREATE TRIGGER business_numbers_no_truncate BEFORE TRUNCATE ON @extschema@.business_numbers
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
ALTER TABLE @extschema@.business_numbers ENABLE ALWAYS TRIGGER business_numbers_rules;
ALTER TABLE @extschema@.business_numbers ENABLE ALWAYS TRIGGER business_numbers_no_truncate;
ALTER TABLE @extschema@.business_numbers ENABLE ROW LEVEL SECURITY;
CREATE POLICY business_numbers_visible ON @extschema@.business_numbers FOR SELECT
  USING (user_id = (SELECT @extschema@._claimed_user()));
CREATE POLICY business_numbers_service ON @extschema@.business_numbers FOR SELECT TO number_wallet_service
  USING (true);
REVOKE ALL ON @extschema@.business_numbers FROM PUBLIC;
GRANT SELECT ON @extschema@.business_numbers TO number_wallet_user, number_wallet_service;

-- ---- transactions: the ledger ---------------------------------------------
-- Append-only; within one wallet and currency, ids increase in the order
-- entries were applied and balance_after is the running balance.
CREATE TABLE @extschema@.transactions (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  wallet_id       uuid NOT NULL,
  user_id         uuid NOT NULL,
  type            text NOT NULL,
  kind            text NOT NULL,
  amount          numeric(14,2) NOT NULL,
  currency        text NOT NULL,
  balance_after   numeric(14,2) NOT NULL,
  description     text NOT NULL,
  number_id       uuid,
  idempotency_key text,
  created_at      timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp()
);
COMMENT ON TABLE @extschema@.transactions IS
  'The ledger, append-only: per wallet and currency, ids follow the order of application '
  'and balance_after is the running balance.';
COMMENT ON COLUMN @extschema@.transactions.kind IS 'topup, purchase, reversal, refund, renewal or adjustment.';
COMMENT ON COLUMN @extschema@.transactions.amount IS 'Always positive; type (CREDIT or DEBIT) gives the direction.';
COMMENT ON COLUMN @extschema@.transactions.balance_after IS
  'The wallet''s balance in this currency right after this entry.';
COMMENT ON COLUMN @extschema@.transactions.idempotency_key IS 'The credit''s idempotency key, per user.';
CREATE UNIQUE INDEX transactions_one_per_number ON @extschema@.transactions (number_id, kind)
  WHERE kind IN ('purchase', 'reversal', 'refund');
COMMENT ON INDEX @extschema@.transactions_one_per_number IS
  'A number has at most one purchase, one reversal and one refund entry.';
CREATE INDEX transactions_renewals ON @extschema@.transactions (number_id) WHERE kind = 'renewal';
CREATE UNIQUE INDEX transactions_idempotency_key ON @extschema@.transactions (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX transactions_user ON @extschema@.transactions (user_id, id);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.transactions', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.transactions', 'id'), '');
CREATE TRIGGER transactions_rules BEFORE INSERT ON @extschema@.transactions
  FOR EACH ROW EXECUTE FUNCTION @extschema@.transactions_rules();
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON @extschema@.transactions
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_ledger_change();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON @extschema@.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_ledger_change();
ALTER TABLE @extschema@.transactions ENABLE ALWAYS TRIGGER transactions_rules;
ALTER TABLE @extschema@.transactions ENABLE ALWAYS TRIGGER transactions_append_only;
ALTER TABLE @extschema@.transactions ENABLE ALWAYS TRIGGER transactions_no_truncate;
ALTER TABLE @extschema@.transactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY transactions_visible ON @extschema@.transactions FOR SELECT
  USING (user_id = (SELECT @extschema@._claimed_user()));
CREATE POLICY transactions_service ON @extschema@.transactions FOR SELECT TO number_wallet_service USING (true);
REVOKE ALL ON @extschema@.transactions FROM PUBLIC;
GRANT SELECT ON @extschema@.transactions TO number_wallet_user, number_wallet_service;

-- ---- discrepancies: the reconciler's findings (service only) --------------
CREATE TABLE @extschema@.discrepancies (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,63}$'),
  phone_number    text,
  twilio_sid      text,
  number_id       uuid,
  detail          text,
  created_at      timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  resolved_at     timestamptz,
  resolution_note text
);
COMMENT ON TABLE @extschema@.discrepancies IS
  'What the reconciler found and could not settle by itself; one open row per finding.';
COMMENT ON COLUMN @extschema@.discrepancies.resolved_at IS 'Set by resolve_discrepancy; NULL while open.';
-- record_discrepancy's ON CONFLICT target (and import_seed's) spells this index's predicate.
CREATE UNIQUE INDEX discrepancies_open ON @extschema@.discrepancies (kind, phone_number, twilio_sid, number_id)
  NULLS NOT DISTINCT WHERE resolved_at IS NULL;
COMMENT ON INDEX @extschema@.discrepancies_open IS
  'One open finding per (kind, phone_number, twilio_sid, number_id), NULLs equal.';
CREATE INDEX discrepancies_number ON @extschema@.discrepancies (number_id) WHERE resolved_at IS NULL;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.discrepancies', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.discrepancies', 'id'), '');
CREATE TRIGGER discrepancies_no_truncate BEFORE TRUNCATE ON @extschema@.discrepancies
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
ALTER TABLE @extschema@.discrepancies ENABLE ALWAYS TRIGGER discrepancies_no_truncate;
ALTER TABLE @extschema@.discrepancies ENABLE ROW LEVEL SECURITY;
CREATE POLICY discrepancies_service ON @extschema@.discrepancies FOR SELECT TO number_wallet_service USING (true);
REVOKE ALL ON @extschema@.discrepancies FROM PUBLIC;
GRANT SELECT ON @extschema@.discrepancies TO number_wallet_service;

-- ---- imported history: what import_seed kept (service only) ---------------
-- The seed's transactions, kept for history (not in the ledger): the typed
-- columns for queries, and seed_row with every column of the seed row as it was.
CREATE TABLE @extschema@.imported_transactions (
  id            uuid PRIMARY KEY,
  user_id       uuid,
  type          text,
  amount        numeric,
  currency      text,
  description   text,
  reference_id  uuid,
  created_at    timestamptz,
  seed_row      jsonb NOT NULL,
  source_schema name NOT NULL,
  imported_at   timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp()
);
COMMENT ON TABLE @extschema@.imported_transactions IS
  'The seed deployment''s transactions, unchanged, kept by import_seed for history; not part of the ledger.';
COMMENT ON COLUMN @extschema@.imported_transactions.seed_row IS 'The whole seed row (every column) as imported.';
CREATE INDEX imported_transactions_user ON @extschema@.imported_transactions (user_id, created_at);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.imported_transactions', '');
CREATE TRIGGER imported_transactions_append_only BEFORE UPDATE OR DELETE ON @extschema@.imported_transactions
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_history_change();
CREATE TRIGGER imported_transactions_no_truncate BEFORE TRUNCATE ON @extschema@.imported_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_history_change();
ALTER TABLE @extschema@.imported_transactions ENABLE ALWAYS TRIGGER imported_transactions_append_only;
ALTER TABLE @extschema@.imported_transactions ENABLE ALWAYS TRIGGER imported_transactions_no_truncate;
ALTER TABLE @extschema@.imported_transactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY imported_transactions_service ON @extschema@.imported_transactions FOR SELECT
  TO number_wallet_service USING (true);
REVOKE ALL ON @extschema@.imported_transactions FROM PUBLIC;
GRANT SELECT ON @extschema@.imported_transactions TO number_wallet_service;

-- One row per import_seed run that was not a dry run, with its report.
CREATE TABLE @extschema@.seed_imports (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_schema name NOT NULL,
  imported_by   name NOT NULL DEFAULT session_user,
  imported_at   timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  report        jsonb NOT NULL
);
COMMENT ON TABLE @extschema@.seed_imports IS 'Each import_seed run that changed the database, with its report.';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.seed_imports', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.seed_imports', 'id'), '');
CREATE TRIGGER seed_imports_append_only BEFORE UPDATE OR DELETE ON @extschema@.seed_imports
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_history_change();
CREATE TRIGGER seed_imports_no_truncate BEFORE TRUNCATE ON @extschema@.seed_imports
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_history_change();
ALTER TABLE @extschema@.seed_imports ENABLE ALWAYS TRIGGER seed_imports_append_only;
ALTER TABLE @extschema@.seed_imports ENABLE ALWAYS TRIGGER seed_imports_no_truncate;
ALTER TABLE @extschema@.seed_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY seed_imports_service ON @extschema@.seed_imports FOR SELECT TO number_wallet_service USING (true);
REVOKE ALL ON @extschema@.seed_imports FROM PUBLIC;
GRANT SELECT ON @extschema@.seed_imports TO number_wallet_service;

-- ---- audit_log: operator actions (service reads; only the functions write) -
-- What a person does to money or ownership has a name, a reason and a trail
-- (docs/sql-api.md "Operator actions"): force_fail, force_confirm,
-- force_release, adjust_balance and resolve_discrepancy each write one row in
-- the transaction of their effect; a repeat that changes nothing writes none.
CREATE TABLE @extschema@.audit_log (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  actor          text NOT NULL CHECK (pg_catalog.char_length(actor) BETWEEN 1 AND 320),
  action         text NOT NULL CHECK (action IN ('force_fail', 'force_confirm', 'force_release', 'adjust_balance',
                                                 'resolve_discrepancy')),
  number_id      uuid,
  user_id        uuid,
  discrepancy_id bigint,
  reason         text NOT NULL CHECK (pg_catalog.char_length(reason) BETWEEN 1 AND 500),
  request_id     text CHECK (request_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
  detail         jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE @extschema@.audit_log IS
  'Operator actions: who (actor), what (action, the function''s name), on what, why (reason), from which request; '
  'append-only, written only by the extension''s functions.';
COMMENT ON COLUMN @extschema@.audit_log.actor IS
  'number_wallet.actor as the service role set it (an operator''s sub and email, service, admin-key), '
  'else the session user.';
COMMENT ON COLUMN @extschema@.audit_log.user_id IS 'The user whose wallet or number the action touched.';
COMMENT ON COLUMN @extschema@.audit_log.request_id IS 'number_wallet.request_id as the service role set it (X-Request-Id).';
COMMENT ON COLUMN @extschema@.audit_log.detail IS 'The action''s answer (amounts, refund, sid, idempotency key).';
-- Look-ups by number and by user (newest first), and one adjustment per user
-- and idempotency key (the key is kept in the row's detail).
CREATE INDEX audit_log_number ON @extschema@.audit_log (number_id) WHERE number_id IS NOT NULL;
CREATE INDEX audit_log_user ON @extschema@.audit_log (user_id, id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX audit_log_adjustment_key ON @extschema@.audit_log (user_id, (detail ->> 'idempotency_key'))
  WHERE action = 'adjust_balance';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.audit_log', 'id'), '');
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON @extschema@.audit_log
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON @extschema@.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_audit_change();
ALTER TABLE @extschema@.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE @extschema@.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;
ALTER TABLE @extschema@.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_service ON @extschema@.audit_log FOR SELECT TO number_wallet_service USING (true);
REVOKE ALL ON @extschema@.audit_log FROM PUBLIC;
GRANT SELECT ON @extschema@.audit_log TO number_wallet_service;

-- ===========================================================================
-- The SQL API: wallets, purchases, releases, renewals (C)
--
-- Every function is SECURITY DEFINER with a pinned search_path: it runs as the
-- extension owner and decides in C who the caller is (docs/sql-api.md
-- "Functions" says who may call each).
-- ===========================================================================

CREATE FUNCTION @extschema@.wallet_credit(p_user_id uuid, p_amount numeric, p_currency text DEFAULT 'USD',
                                          p_description text DEFAULT 'Top-up', p_idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_wallet_credit'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.wallet_credit(uuid, numeric, text, text, text) IS
  'Service: credits a wallet (creating it if missing) with one topup ledger row; idempotent per key.';
REVOKE ALL ON FUNCTION @extschema@.wallet_credit(uuid, numeric, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.wallet_credit(uuid, numeric, text, text, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.update_wallet_balance_atomic(p_wallet_id uuid, p_amount numeric, p_currency text)
RETURNS @extschema@.wallets AS 'MODULE_PATHNAME', 'nw_update_wallet_balance_atomic'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.update_wallet_balance_atomic(uuid, numeric, text) IS
  'Service: the seed''s balance change under the wallet lock, with one adjustment ledger row; never below zero.';
REVOKE ALL ON FUNCTION @extschema@.update_wallet_balance_atomic(uuid, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.update_wallet_balance_atomic(uuid, numeric, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.purchase_number(p_user_id uuid, p_phone_number text, p_monthly_cost numeric,
                                            p_currency text DEFAULT 'USD', p_display_name text DEFAULT NULL,
                                            p_idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_purchase_number'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.purchase_number(uuid, text, numeric, text, text, text) IS
  'Service: reserves a number and debits its cost in one transaction (pending); idempotent per key.';
REVOKE ALL ON FUNCTION @extschema@.purchase_number(uuid, text, numeric, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.purchase_number(uuid, text, numeric, text, text, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.confirm_purchase(p_number_id uuid, p_twilio_sid text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_confirm_purchase'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.confirm_purchase(uuid, text) IS
  'Service: pending -> active once the provider sold the number; records the sid and the paid period.';
REVOKE ALL ON FUNCTION @extschema@.confirm_purchase(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.confirm_purchase(uuid, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.fail_purchase(p_number_id uuid, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_fail_purchase'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.fail_purchase(uuid, text) IS
  'Service: pending -> failed with the debit reversed, once the provider refused the purchase.';
REVOKE ALL ON FUNCTION @extschema@.fail_purchase(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.fail_purchase(uuid, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.refund_quote(p_number_id uuid, p_at timestamptz DEFAULT now())
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_refund_quote'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.refund_quote(uuid, timestamptz) IS
  'User or service: whether a release at p_at would be refunded, and how much (the evaluation release uses).';
REVOKE ALL ON FUNCTION @extschema@.refund_quote(uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.refund_quote(uuid, timestamptz) TO number_wallet_user, number_wallet_service;

CREATE FUNCTION @extschema@.release_number(p_user_id uuid, p_number_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_release_number'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.release_number(uuid, uuid) IS
  'User or service: active -> released, refunded inside the refund window.';
REVOKE ALL ON FUNCTION @extschema@.release_number(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.release_number(uuid, uuid) TO number_wallet_user, number_wallet_service;

CREATE FUNCTION @extschema@.mark_provider_released(p_number_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_mark_provider_released'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.mark_provider_released(uuid) IS
  'Service: the provider deleted the released number; the phone number is free again.';
REVOKE ALL ON FUNCTION @extschema@.mark_provider_released(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.mark_provider_released(uuid) TO number_wallet_service;

CREATE FUNCTION @extschema@.renew_due_numbers(p_limit integer DEFAULT 100)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_renew_due_numbers'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.renew_due_numbers(integer) IS
  'Service: charges one period of each due number, or leaves it unpaid, or releases it after the grace days.';
REVOKE ALL ON FUNCTION @extschema@.renew_due_numbers(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.renew_due_numbers(integer) TO number_wallet_service;

-- ===========================================================================
-- The reconciler: findings and the ledger audit (PL/pgSQL, service only)
-- ===========================================================================

-- ON CONFLICT DO UPDATE (a no-op update) returns the one open row it conflicted
-- with, and its row lock orders a concurrent resolve after this call.
CREATE FUNCTION @extschema@.record_discrepancy(p_kind text, p_phone_number text, p_twilio_sid text,
                                                         p_number_id uuid, p_detail text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_id bigint;
BEGIN
  PERFORM number_wallet._require_service('record_discrepancy');
  IF p_kind IS NULL OR p_kind !~ '^[a-z][a-z_]{0,63}$' THEN
    RAISE EXCEPTION 'invalid discrepancy kind' USING ERRCODE = '22023',
      DETAIL = 'A kind is 1 to 64 lower-case letters or underscores, such as missing_at_provider.';
  END IF;
  IF p_phone_number IS NOT NULL AND p_phone_number !~ '^\+[1-9][0-9]{7,14}$' THEN
    RAISE EXCEPTION 'invalid phone number' USING ERRCODE = '22023';
  END IF;
  IF p_twilio_sid IS NOT NULL AND p_twilio_sid !~ '^[A-Za-z0-9_-]{2,64}$' THEN
    RAISE EXCEPTION 'invalid provider sid' USING ERRCODE = '22023';
  END IF;
  IF char_length(p_detail) > 2000 THEN
    RAISE EXCEPTION 'detail must be at most 2000 characters' USING ERRCODE = '22023';
  END IF;
  INSERT INTO number_wallet.discrepancies AS d (kind, phone_number, twilio_sid, number_id, detail)
  VALUES (p_kind, p_phone_number, p_twilio_sid, p_number_id, p_detail)
  ON CONFLICT (kind, phone_number, twilio_sid, number_id) WHERE resolved_at IS NULL
  DO UPDATE SET detail = d.detail
  RETURNING d.id INTO v_id;
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_discrepancy(text, text, text, uuid, text) IS
  'Service: records a reconciler finding (the same open finding twice is one row).';
REVOKE ALL ON FUNCTION @extschema@.record_discrepancy(text, text, text, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.record_discrepancy(text, text, text, uuid, text) TO number_wallet_service;

-- Audits the invariants of docs/architecture.md "Invariants" from the raw
-- tables; empty when all is well. An imported number has no purchase entry,
-- and its refund (at most one) equals its monthly cost.
CREATE FUNCTION @extschema@.wallet_reconcile()
RETURNS TABLE (kind text, wallet_id uuid, user_id uuid, number_id uuid, currency text,
               expected numeric, actual numeric, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM number_wallet._require_service('wallet_reconcile');
  RETURN QUERY
  WITH ledger AS (
    SELECT t.*, CASE WHEN t.type = 'CREDIT' THEN t.amount ELSE -t.amount END AS signed,
           sum(CASE WHEN t.type = 'CREDIT' THEN t.amount ELSE -t.amount END)
             OVER (PARTITION BY t.wallet_id, t.currency ORDER BY t.id) AS running
      FROM number_wallet.transactions t
  ), balances AS (
    SELECT w.id, w.user_id, c.currency, c.balance
      FROM number_wallet.wallets w
     CROSS JOIN LATERAL (VALUES ('USD', w.balance_usd), ('INR', w.balance_inr)) AS c(currency, balance)
  ), sums AS (
    SELECT l.wallet_id, l.currency, sum(l.signed) AS total FROM ledger l GROUP BY 1, 2
  ), entries AS (
    SELECT l.number_id,
           count(*) FILTER (WHERE l.kind = 'purchase') AS purchases,
           count(*) FILTER (WHERE l.kind = 'reversal') AS reversals,
           count(*) FILTER (WHERE l.kind = 'refund') AS refunds,
           max(l.amount) FILTER (WHERE l.kind = 'purchase') AS purchase_amount,
           max(l.amount) FILTER (WHERE l.kind = 'reversal') AS reversal_amount,
           max(l.amount) FILTER (WHERE l.kind = 'refund') AS refund_amount,
           bool_or(l.currency <> n.currency OR l.user_id <> n.user_id) AS foreign_entry,
           bool_or(n.id IS NULL) AS orphan
      FROM ledger l LEFT JOIN number_wallet.business_numbers n ON n.id = l.number_id
     WHERE l.number_id IS NOT NULL
     GROUP BY l.number_id
  ), numbers AS (
    -- An imported number was paid in the seed: no purchase entry; its monthly cost is what a refund returns.
    SELECT n.*, CASE WHEN n.imported_at IS NULL THEN 1 ELSE 0 END AS want_purchases,
           CASE WHEN n.imported_at IS NULL THEN e.purchase_amount ELSE n.monthly_cost END AS paid,
           coalesce(e.purchases, 0) AS purchases, coalesce(e.reversals, 0) AS reversals,
           coalesce(e.refunds, 0) AS refunds, e.reversal_amount, e.refund_amount, e.purchase_amount,
           e.foreign_entry
      FROM number_wallet.business_numbers n LEFT JOIN entries e ON e.number_id = n.id
  )
  SELECT 'balance_mismatch', b.id, b.user_id, NULL::uuid, b.currency, coalesce(s.total, 0), b.balance,
         'The wallet balance differs from the sum of its ledger entries.'
    FROM balances b LEFT JOIN sums s ON s.wallet_id = b.id AND s.currency = b.currency
   WHERE b.balance <> coalesce(s.total, 0)
  UNION ALL
  SELECT 'running_balance_mismatch', l.wallet_id, min(l.user_id::text)::uuid, NULL, l.currency,
         NULL, NULL, format('balance_after breaks the running balance at transaction %s.', min(l.id))
    FROM ledger l WHERE l.balance_after <> l.running GROUP BY l.wallet_id, l.currency
  UNION ALL
  SELECT 'ledger_without_wallet', s.wallet_id, NULL, NULL, s.currency, NULL, s.total,
         'Ledger entries reference a wallet that does not exist.'
    FROM sums s WHERE NOT EXISTS (SELECT 1 FROM number_wallet.wallets w WHERE w.id = s.wallet_id)
  UNION ALL
  SELECT 'number_ledger_mismatch', NULL, n.user_id, n.id, n.currency, NULL, NULL,
         concat_ws(' ',
           CASE WHEN n.purchases <> n.want_purchases
                THEN format('%s purchase entries (want %s%s).', n.purchases, n.want_purchases,
                            CASE WHEN n.imported_at IS NOT NULL THEN ': an imported number was paid before the import' ELSE '' END) END,
           CASE WHEN n.status = 'failed' AND n.reversals <> 1 THEN 'A failed number needs exactly one reversal.' END,
           CASE WHEN n.status <> 'failed' AND n.reversals > 0 THEN 'Only a failed number may have a reversal.' END,
           CASE WHEN n.status <> 'released' AND n.refunds > 0 THEN 'Only a released number may have a refund.' END,
           CASE WHEN n.reversal_amount <> n.purchase_amount THEN 'The reversal differs from the purchase.' END,
           CASE WHEN n.refund_amount <> n.paid THEN 'The refund differs from the purchase.' END,
           CASE WHEN n.foreign_entry THEN 'An entry has another user or currency than the number.' END)
    FROM numbers n
   WHERE n.purchases <> n.want_purchases
      OR (n.status = 'failed') <> (n.reversals = 1)
      OR (n.status <> 'released' AND n.refunds > 0)
      OR n.reversal_amount <> n.purchase_amount
      OR n.refund_amount <> n.paid
      OR n.foreign_entry
  UNION ALL
  SELECT 'entry_without_number', NULL, NULL, e.number_id, NULL, NULL, NULL,
         'Ledger entries reference a number that does not exist.'
    FROM entries e WHERE e.orphan;
END
$$;
COMMENT ON FUNCTION @extschema@.wallet_reconcile() IS
  'Service: one row per balance that differs from its ledger and per number whose entries break the rules; empty when all is well.';
REVOKE ALL ON FUNCTION @extschema@.wallet_reconcile() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.wallet_reconcile() TO number_wallet_service;

-- ===========================================================================
-- Operator actions (docs/sql-api.md "Operator actions"): each takes a reason
-- and writes one audit_log row in the transaction of its effect. The actor and
-- the request id come from number_wallet.actor / number_wallet.request_id when
-- the service role set them (the shim does, per HTTP request).
-- ===========================================================================

-- The audit row of the actions written in PL/pgSQL (audit.cpp). EXECUTE is
-- granted to nobody: only the extension's SECURITY DEFINER functions call it.
CREATE FUNCTION @extschema@._audit_write(p_action text, p_number_id uuid, p_user_id uuid, p_discrepancy_id bigint,
                                         p_reason text, p_detail text)
RETURNS bigint AS 'MODULE_PATHNAME', 'nw_audit_write' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@._audit_write(text, uuid, uuid, bigint, text, text) IS
  'Internal: appends the audit_log row of an operator action written in PL/pgSQL.';
REVOKE ALL ON FUNCTION @extschema@._audit_write(text, uuid, uuid, bigint, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.force_fail(p_number_id uuid, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_force_fail'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.force_fail(uuid, text) IS
  'Operator action: pending -> failed with a full reversal (as fail_purchase), audited with the reason.';
REVOKE ALL ON FUNCTION @extschema@.force_fail(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.force_fail(uuid, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.force_confirm(p_number_id uuid, p_twilio_sid text, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_force_confirm'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.force_confirm(uuid, text, text) IS
  'Operator action: pending -> active under the provider sid (as confirm_purchase), audited with the reason.';
REVOKE ALL ON FUNCTION @extschema@.force_confirm(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.force_confirm(uuid, text, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.force_release(p_number_id uuid, p_refund boolean, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_force_release'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.force_release(uuid, boolean, text) IS
  'Operator action: active -> released, refunding the purchase (once) only when p_refund; audited with the reason.';
REVOKE ALL ON FUNCTION @extschema@.force_release(uuid, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.force_release(uuid, boolean, text) TO number_wallet_service;

CREATE FUNCTION @extschema@.adjust_balance(p_user_id uuid, p_amount numeric, p_currency text, p_reason text,
                                           p_idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_adjust_balance'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.adjust_balance(uuid, numeric, text, text, text) IS
  'Operator action: a signed, non-zero adjustment entry, never below zero (NW001); replays by idempotency key; '
  'audited with the reason.';
REVOKE ALL ON FUNCTION @extschema@.adjust_balance(uuid, numeric, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.adjust_balance(uuid, numeric, text, text, text) TO number_wallet_service;

-- Closing a finding: the note is the action's reason (1 to 500 characters);
-- closing writes its audit row, a repeat replays.
CREATE FUNCTION @extschema@.resolve_discrepancy(p_id bigint, p_note text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_row number_wallet.discrepancies;
  v_result jsonb;
  v_owner uuid;
  v_replayed boolean := true;
BEGIN
  PERFORM number_wallet._require_service('resolve_discrepancy');
  IF p_id IS NULL THEN
    RAISE EXCEPTION 'p_id must not be null' USING ERRCODE = '22023';
  END IF;
  IF p_note IS NULL OR char_length(p_note) NOT BETWEEN 1 AND 500 OR btrim(p_note, E' \t\r\n') = ''
     OR p_note ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' THEN
    RAISE EXCEPTION 'p_note must be 1 to 500 characters' USING ERRCODE = '22023',
      DETAIL = 'Every operator action records why it was taken.',
      HINT = 'Give a reason that is not blank and has no control characters but newlines.';
  END IF;
  SELECT * INTO v_row FROM number_wallet.discrepancies WHERE id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'discrepancy % not found', p_id USING ERRCODE = 'NW003';
  END IF;
  IF v_row.resolved_at IS NULL THEN
    UPDATE number_wallet.discrepancies
       SET resolved_at = statement_timestamp(), resolution_note = p_note
     WHERE id = p_id RETURNING * INTO v_row;
    v_replayed := false;
  END IF;
  v_result := jsonb_build_object('id', v_row.id, 'kind', v_row.kind, 'resolved_at',
                                 to_char(v_row.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                 'note', v_row.resolution_note);
  IF v_replayed THEN
    RETURN v_result || jsonb_build_object('replayed', true, 'audit_id', NULL);
  END IF;
  SELECT n.user_id INTO v_owner FROM number_wallet.business_numbers n WHERE n.id = v_row.number_id;
  RETURN v_result || jsonb_build_object('replayed', false, 'audit_id',
    number_wallet._audit_write('resolve_discrepancy', v_row.number_id, v_owner, v_row.id, p_note, v_result::text));
END
$$;
COMMENT ON FUNCTION @extschema@.resolve_discrepancy(bigint, text) IS 'Service: closes a finding with a note.';
REVOKE ALL ON FUNCTION @extschema@.resolve_discrepancy(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.resolve_discrepancy(bigint, text) TO number_wallet_service;

-- ===========================================================================
-- Views (service only; security_invoker, so row-level security applies)
-- ===========================================================================

-- ---- monitoring: the seed application's queries run unchanged -------------
-- They replace the seed's "manual intervention" notes, which this design never
-- needs to write.
CREATE VIEW @extschema@.numbers_needing_intervention WITH (security_invoker = true) AS
  SELECT n.id, NULL::bigint AS discrepancy_id, n.user_id, n.phone_number, n.twilio_sid, n.status,
         'pending_too_long'::text AS reason, n.created_at AS since
    FROM @extschema@.business_numbers n
   WHERE n.status = 'pending'
     AND n.created_at < statement_timestamp() - make_interval(secs =>
           (SELECT @extschema@._setting('number_wallet.pending_alert_seconds'))::integer)
  UNION ALL
  SELECT n.id, NULL, n.user_id, n.phone_number, n.twilio_sid, n.status, 'provider_release_pending', n.released_at
    FROM @extschema@.business_numbers n
   WHERE n.status = 'released' AND n.provider_released_at IS NULL
  UNION ALL
  SELECT n.id, NULL, n.user_id, n.phone_number, n.twilio_sid, n.status, 'renewal_unpaid', n.renewal_unpaid_since
    FROM @extschema@.business_numbers n
   WHERE n.status = 'active' AND n.renewal_unpaid_since IS NOT NULL
  UNION ALL
  SELECT d.number_id, d.id, n.user_id, coalesce(d.phone_number, n.phone_number),
         coalesce(d.twilio_sid, n.twilio_sid), n.status, d.kind, d.created_at
    FROM @extschema@.discrepancies d LEFT JOIN @extschema@.business_numbers n ON n.id = d.number_id
   WHERE d.resolved_at IS NULL;
COMMENT ON VIEW @extschema@.numbers_needing_intervention IS
  'Numbers an operator should look at: pending too long, awaiting provider release, renewal unpaid, open discrepancies.';
REVOKE ALL ON @extschema@.numbers_needing_intervention FROM PUBLIC;
GRANT SELECT ON @extschema@.numbers_needing_intervention TO number_wallet_service;

CREATE VIEW @extschema@.daily_transaction_summary WITH (security_invoker = true) AS
  SELECT (t.created_at AT TIME ZONE 'UTC')::date AS date, t.type, t.kind, t.currency,
         count(*) AS count, sum(t.amount) AS total
    FROM @extschema@.transactions t
   GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW @extschema@.daily_transaction_summary IS 'Ledger rows and totals per UTC day, type, kind and currency.';
REVOKE ALL ON @extschema@.daily_transaction_summary FROM PUBLIC;
GRANT SELECT ON @extschema@.daily_transaction_summary TO number_wallet_service;

CREATE VIEW @extschema@.purchase_success_rate WITH (security_invoker = true) AS
  SELECT count(*) FILTER (WHERE n.purchase_date IS NOT NULL) AS successful,
         count(*) FILTER (WHERE n.status = 'failed') AS failed,
         count(*) FILTER (WHERE n.status = 'pending') AS pending,
         count(*) AS total,
         round(100.0 * count(*) FILTER (WHERE n.purchase_date IS NOT NULL) / nullif(count(*), 0), 2) AS success_rate
    FROM @extschema@.business_numbers n
   WHERE n.created_at >= statement_timestamp() - interval '30 days';
COMMENT ON VIEW @extschema@.purchase_success_rate IS 'Purchases of the last 30 days: confirmed, failed, pending.';
REVOKE ALL ON @extschema@.purchase_success_rate FROM PUBLIC;
GRANT SELECT ON @extschema@.purchase_success_rate TO number_wallet_service;

-- ---- the shim's reads -----------------------------------------------------
-- The HTTP shim reads numbers, wallets and the ledger only through these views
-- (shim/db/statements.hpp), never through the tables: the regression suite
-- (test/regress/sql/api_views.sql) runs every column they show, and a change
-- to a table changes the view beside it.

-- A number as the HTTP API shows it (money as text, times in RFC 3339 UTC).
-- held: the phone number is taken, the predicate of the index
-- business_numbers_held_phone_number (see there), repeated here.
CREATE VIEW @extschema@.api_numbers WITH (security_invoker = true) AS
  SELECT n.id, n.user_id, n.phone_number, n.display_name, n.status, n.twilio_sid,
         n.monthly_cost::text AS monthly_cost, n.currency,
         to_char(n.purchase_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS purchase_date,
         to_char(n.paid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS paid_until,
         n.provider, n.failure_reason, n.provider_released_at IS NOT NULL AS provider_released,
         (n.status IN ('pending', 'active') OR (n.status = 'released' AND n.provider_released_at IS NULL)) AS held,
         n.idempotency_key, n.created_at, n.released_at
    FROM @extschema@.business_numbers n;
COMMENT ON VIEW @extschema@.api_numbers IS
  'Numbers as the HTTP API shows them; held = the phone number is taken (the held-number index predicate).';
REVOKE ALL ON @extschema@.api_numbers FROM PUBLIC;
GRANT SELECT ON @extschema@.api_numbers TO number_wallet_service;

-- A wallet's balances as money text.
CREATE VIEW @extschema@.api_wallets WITH (security_invoker = true) AS
  SELECT w.user_id, w.balance_usd::text AS balance_usd, w.balance_inr::text AS balance_inr
    FROM @extschema@.wallets w;
COMMENT ON VIEW @extschema@.api_wallets IS 'Wallet balances as the HTTP API shows them (money as text).';
REVOKE ALL ON @extschema@.api_wallets FROM PUBLIC;
GRANT SELECT ON @extschema@.api_wallets TO number_wallet_service;

-- Ledger entries as the HTTP API shows them; id stays bigint so that pages
-- sort and resume by the number, not by its text.
CREATE VIEW @extschema@.api_transactions WITH (security_invoker = true) AS
  SELECT t.id, t.user_id, t.type, t.kind, t.amount::text AS amount, t.currency,
         t.balance_after::text AS balance_after, t.description, t.number_id,
         to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
    FROM @extschema@.transactions t;
COMMENT ON VIEW @extschema@.api_transactions IS
  'Ledger entries as the HTTP API shows them (money as text, created_at in RFC 3339 UTC).';
REVOKE ALL ON @extschema@.api_transactions FROM PUBLIC;
GRANT SELECT ON @extschema@.api_transactions TO number_wallet_service;

-- ===========================================================================
-- Operations: metrics, seed import, end users
-- ===========================================================================

-- metrics_snapshot(): every database-derived value of the shim's /metrics in
-- one statement, so a scrape costs one round trip (the shim caches the answer
-- for at most 15 s). One row per (metric, key, currency):
--   ledger_entries / ledger_amount  key = kind, currency: count(*) and sum(amount)
--                                   of the append-only ledger, so they only grow
--   numbers                         key = status
--   interventions                   key = reason (numbers_needing_intervention)
--   pending_overdue                 pending purchases older than
--                                   number_wallet.pending_alert_seconds
--   wallet_balance                  currency: sum of the wallets' balances
--   ledger_drift_rows               rows of wallet_reconcile()
-- Reads every ledger row (as wallet_reconcile does): meant for a scrape every
-- 15 s or more, not for a request path.
CREATE FUNCTION @extschema@.metrics_snapshot()
RETURNS TABLE (metric text, key text, currency text, value numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM number_wallet._require_service('metrics_snapshot');
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

-- import_seed(p_schema, p_dry_run) adopts a running seed deployment (the
-- Next.js + Supabase app this project replaces) whose wallets,
-- business_numbers and transactions tables were brought into schema p_schema
-- of this database (docs/migration.md). See docs/sql-api.md "Importing a seed
-- deployment" for the rules; in short:
--   * a seed wallet becomes a wallet with the seed's id and user_id, and each
--     non-zero balance one opening `adjustment` CREDIT (`Opening balance:
--     imported`), written in the same statement as the wallet row, so the
--     ledger explains every balance from the first day;
--   * an active seed number with a sid becomes an `active` number with the
--     seed's id, sid, purchase date and monthly cost (USD), paid until the first
--     monthly anniversary of its purchase after the import; it has no
--     `purchase` entry (it was paid in the seed), so release_number refunds
--     its monthly cost inside the refund window and wallet_reconcile() expects
--     no purchase entry for it (imported_at marks it);
--   * a seed number marked PAYMENT PROCESSING FAILED becomes an open
--     `imported_payment_failed` discrepancy (number_id = the seed row's id);
--   * every seed transaction is kept, unchanged, in imported_transactions;
--   * whatever cannot be adopted without guessing is reported in `skipped`.
-- Written in PL/pgSQL, not C++: a one-shot administrative bulk job whose work
-- is a handful of set-based statements over tables whose shape is only known
-- at run time (dynamic SQL on the seed's columns); C++ would add nothing but
-- string building, and every row still passes the C row-rule triggers.
-- SECURITY INVOKER: only a superuser or the extension's owner may run it (it
-- checks), and both write the tables without a definer's help.
CREATE FUNCTION @extschema@.import_seed(p_schema name DEFAULT 'public', p_dry_run boolean DEFAULT true)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_now       timestamptz := statement_timestamp();
  v_window    integer;
  v_wallets   regclass;
  v_numbers   regclass;
  v_txns      regclass;
  v_wcols     text[];
  v_ncols     text[];
  v_tcols     text[];
  v_usd       text;
  v_inr       text;
  v_other     text;
  v_col       text;
  v_user_expr text;
  v_report    jsonb;
  v_counts    record;
  v_uuid CONSTANT text := '^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$';
BEGIN
  -- Who: a superuser or the extension's owner (current_user: this function is not SECURITY DEFINER).
  IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = current_user AND r.rolsuper)
     AND NOT EXISTS (SELECT 1 FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner
                      WHERE e.extname = 'number_wallet' AND r.rolname = current_user) THEN
    RAISE EXCEPTION 'permission denied for function import_seed' USING ERRCODE = '42501',
      DETAIL = 'Only a superuser or the owner of extension number_wallet may import a seed deployment.';
  END IF;
  IF p_schema IS NULL THEN
    RAISE EXCEPTION 'p_schema must not be null' USING ERRCODE = '22023';
  END IF;
  IF p_dry_run IS NULL THEN
    RAISE EXCEPTION 'p_dry_run must not be null' USING ERRCODE = '22023',
      HINT = 'Pass true to see what an import would do, false to import.';
  END IF;
  IF p_schema = 'number_wallet' THEN
    RAISE EXCEPTION 'cannot import from schema number_wallet' USING ERRCODE = '22023',
      HINT = 'Bring the seed''s tables into a schema of their own first (docs/migration.md).';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = p_schema) THEN
    RAISE EXCEPTION 'schema "%" does not exist', p_schema USING ERRCODE = '3F000',
      HINT = 'Bring the seed''s wallets, business_numbers and transactions into that schema first (docs/migration.md).';
  END IF;
  v_wallets := to_regclass(format('%I.wallets', p_schema));
  v_numbers := to_regclass(format('%I.business_numbers', p_schema));
  v_txns := to_regclass(format('%I.transactions', p_schema));
  IF v_wallets IS NULL OR v_numbers IS NULL OR v_txns IS NULL THEN
    RAISE EXCEPTION 'relation "%.%" does not exist', p_schema,
      CASE WHEN v_wallets IS NULL THEN 'wallets' WHEN v_numbers IS NULL THEN 'business_numbers' ELSE 'transactions' END
      USING ERRCODE = '42P01',
      DETAIL = 'A seed deployment has the tables wallets, business_numbers and transactions.';
  END IF;
  SELECT array_agg(a.attname::text) INTO v_wcols FROM pg_attribute a
   WHERE a.attrelid = v_wallets AND a.attnum > 0 AND NOT a.attisdropped;
  SELECT array_agg(a.attname::text) INTO v_ncols FROM pg_attribute a
   WHERE a.attrelid = v_numbers AND a.attnum > 0 AND NOT a.attisdropped;
  SELECT array_agg(a.attname::text) INTO v_tcols FROM pg_attribute a
   WHERE a.attrelid = v_txns AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT (v_wcols @> ARRAY['id', 'user_id']) THEN
    RAISE EXCEPTION 'table %.wallets lacks column id or user_id', p_schema USING ERRCODE = '42703';
  END IF;
  IF NOT (v_ncols @> ARRAY['id', 'user_id', 'phone_number', 'twilio_sid', 'is_active']) THEN
    RAISE EXCEPTION 'table %.business_numbers lacks one of the columns id, user_id, phone_number, twilio_sid, is_active',
      p_schema USING ERRCODE = '42703';
  END IF;
  IF NOT (v_tcols @> ARRAY['id']) OR NOT (v_tcols && ARRAY['user_id', 'wallet_id']) THEN
    RAISE EXCEPTION 'table %.transactions lacks column id, or both user_id and wallet_id', p_schema
      USING ERRCODE = '42703';
  END IF;

  -- One import at a time; a real one also stops purchases and releases from
  -- changing what it checks (held phone numbers, sids, wallets) until it commits.
  PERFORM pg_advisory_xact_lock(pg_catalog.hashtext('number_wallet.import_seed'));
  IF NOT p_dry_run THEN
    LOCK TABLE number_wallet.wallets, number_wallet.business_numbers IN SHARE ROW EXCLUSIVE MODE;
  END IF;
  -- The refund window imported numbers keep (as confirm_purchase snapshots it).
  v_window := number_wallet._setting('number_wallet.refund_window_days')::integer;

  -- ---- the seed's rows, read once into temporary tables with known columns ----
  -- Room for them in memory (a 100,000-wallet seed needs a few hundred MB of
  -- temporary tables; the default 8 MB would write them out and read them
  -- back). Only possible before the session's first temporary table.
  -- Sorts and hashes of a large seed in memory too.
  PERFORM set_config('work_mem', '256MB', true);
  BEGIN
    PERFORM set_config('temp_buffers', '512MB', true);
  EXCEPTION WHEN OTHERS THEN
    NULL;  -- the session already used temporary tables: keep its setting
  END;
  -- (left by an earlier call in this transaction; ON COMMIT DROP removes them at its end)
  FOREACH v_col IN ARRAY ARRAY['nw_seed_wallets', 'nw_seed_numbers', 'nw_seed_transactions',
                               'nw_plan_wallets', 'nw_plan_numbers', 'nw_plan_transactions'] LOOP
    IF to_regclass('pg_temp.' || v_col) IS NOT NULL THEN
      EXECUTE format('DROP TABLE pg_temp.%I', v_col);
    END IF;
  END LOOP;

  -- Wallets: balance_usd / balance_inr, or a balance in a currency column
  -- (a lone balance column is USD, the seed's only price currency). Other
  -- balance_xxx columns holding money, or another currency, are reported.
  v_usd := CASE WHEN 'balance_usd' = ANY (v_wcols) THEN 's.balance_usd::numeric' ELSE '0' END;
  v_inr := CASE WHEN 'balance_inr' = ANY (v_wcols) THEN 's.balance_inr::numeric' ELSE '0' END;
  v_other := 'NULL::text';
  IF 'balance' = ANY (v_wcols) AND 'currency' = ANY (v_wcols) THEN
    v_usd := format('(coalesce(%s, 0) + CASE WHEN upper(btrim(s.currency::text)) = ''USD'' THEN coalesce(s.balance::numeric, 0) ELSE 0 END)', v_usd);
    v_inr := format('(coalesce(%s, 0) + CASE WHEN upper(btrim(s.currency::text)) = ''INR'' THEN coalesce(s.balance::numeric, 0) ELSE 0 END)', v_inr);
    v_other := 'CASE WHEN coalesce(upper(btrim(s.currency::text)), '''') NOT IN (''USD'', ''INR'') '
               'THEN coalesce(upper(btrim(s.currency::text)), ''(none)'') END';
  ELSIF 'balance' = ANY (v_wcols) AND NOT ('balance_usd' = ANY (v_wcols)) THEN
    v_usd := 's.balance::numeric';
  END IF;
  FOR v_col IN SELECT a.attname::text FROM pg_attribute a
                WHERE a.attrelid = v_wallets AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.attname ~ '^balance_[a-z]{3}$' AND a.attname NOT IN ('balance_usd', 'balance_inr')
                  AND a.atttypid IN ('numeric'::regtype, 'integer'::regtype, 'bigint'::regtype, 'double precision'::regtype, 'real'::regtype)
                ORDER BY a.attnum LOOP
    v_other := format('coalesce(%s, CASE WHEN coalesce(s.%I, 0) <> 0 THEN %L END)', v_other, v_col,
                      upper(substr(v_col, 9)));
  END LOOP;
  EXECUTE format(
    'CREATE TEMP TABLE nw_seed_wallets ON COMMIT DROP AS
     SELECT s.id::text AS raw_id,
            CASE WHEN s.id::text ~ %1$L THEN s.id::text::uuid END AS id,
            CASE WHEN s.user_id::text ~ %1$L THEN s.user_id::text::uuid END AS user_id,
            coalesce(%2$s, 0) AS usd, coalesce(%3$s, 0) AS inr, %4$s AS other_currency,
            %5$s AS created_at
       FROM %6$s s',
    v_uuid, v_usd, v_inr, v_other,
    CASE WHEN 'created_at' = ANY (v_wcols) THEN 's.created_at::timestamptz' ELSE 'NULL::timestamptz' END,
    v_wallets);
  -- Indexes and statistics for the look-ups below (each seed row asks a few
  -- keyed questions; without them 100,000 wallets would be scanned per row).
  CREATE INDEX ON pg_temp.nw_seed_wallets (raw_id);
  ANALYZE pg_temp.nw_seed_wallets;

  EXECUTE format(
    'CREATE TEMP TABLE nw_seed_numbers ON COMMIT DROP AS
     SELECT s.id::text AS raw_id,
            CASE WHEN s.id::text ~ %1$L THEN s.id::text::uuid END AS id,
            CASE WHEN s.user_id::text ~ %1$L THEN s.user_id::text::uuid END AS user_id,
            s.phone_number::text AS raw_phone,
            regexp_replace(regexp_replace(btrim(s.phone_number::text), ''^tel:'', '''', ''i''),
                           ''[[:space:]().-]'', '''', ''g'') AS phone,
            nullif(btrim(s.twilio_sid::text), '''') AS sid,
            coalesce(s.is_active::text::boolean, false) AS is_active,
            %2$s AS monthly_cost, %3$s AS purchase_date, %4$s AS display_name, %5$s AS notes,
            %6$s AS created_at, %7$s AS currency
       FROM %8$s s',
    v_uuid,
    CASE WHEN 'monthly_cost' = ANY (v_ncols) THEN 's.monthly_cost::numeric' ELSE 'NULL::numeric' END,
    CASE WHEN 'purchase_date' = ANY (v_ncols) THEN 's.purchase_date::timestamptz' ELSE 'NULL::timestamptz' END,
    CASE WHEN 'display_name' = ANY (v_ncols) THEN 'nullif(btrim(s.display_name::text), '''')' ELSE 'NULL::text' END,
    CASE WHEN 'notes' = ANY (v_ncols) THEN 's.notes::text' ELSE 'NULL::text' END,
    CASE WHEN 'created_at' = ANY (v_ncols) THEN 's.created_at::timestamptz' ELSE 'NULL::timestamptz' END,
    CASE WHEN 'currency' = ANY (v_ncols) THEN 'upper(nullif(btrim(s.currency::text), ''''))' ELSE 'NULL::text' END,
    v_numbers);
  ANALYZE pg_temp.nw_seed_numbers;

  -- Transactions name their user, or their wallet (then its user).
  IF 'user_id' = ANY (v_tcols) THEN
    v_user_expr := format('CASE WHEN s.user_id::text ~ %L THEN s.user_id::text::uuid END', v_uuid);
  ELSE
    v_user_expr := '(SELECT w.user_id FROM pg_temp.nw_seed_wallets w WHERE w.raw_id = s.wallet_id::text LIMIT 1)';
  END IF;
  EXECUTE format(
    'CREATE TEMP TABLE nw_seed_transactions ON COMMIT DROP AS
     SELECT s.id::text AS raw_id,
            CASE WHEN s.id::text ~ %1$L THEN s.id::text::uuid END AS id,
            %2$s AS user_id,
            %3$s AS type, %4$s AS amount, %5$s AS currency, %6$s AS description, %7$s AS reference_id,
            %8$s AS created_at, to_jsonb(s) AS seed_row
       FROM %9$s s',
    v_uuid, v_user_expr,
    CASE WHEN 'type' = ANY (v_tcols) THEN 's.type::text' ELSE 'NULL::text' END,
    CASE WHEN 'amount' = ANY (v_tcols) THEN 's.amount::numeric' ELSE 'NULL::numeric' END,
    CASE WHEN 'currency' = ANY (v_tcols) THEN 's.currency::text' ELSE 'NULL::text' END,
    CASE WHEN 'description' = ANY (v_tcols) THEN 's.description::text' ELSE 'NULL::text' END,
    CASE WHEN 'reference_id' = ANY (v_tcols)
         THEN format('CASE WHEN s.reference_id::text ~ %L THEN s.reference_id::text::uuid END', v_uuid)
         ELSE 'NULL::uuid' END,
    CASE WHEN 'created_at' = ANY (v_tcols) THEN 's.created_at::timestamptz' ELSE 'NULL::timestamptz' END,
    v_txns);
  ANALYZE pg_temp.nw_seed_transactions;

  -- ---- the plan: what happens to each seed row (first matching reason wins) ----
  CREATE TEMP TABLE nw_plan_wallets ON COMMIT DROP AS
  SELECT s.*,
         CASE
           WHEN s.id IS NULL THEN 'invalid_id'
           WHEN s.user_id IS NULL THEN 'invalid_user_id'
           WHEN EXISTS (SELECT 1 FROM number_wallet.wallets w
                         WHERE w.id = s.id AND w.user_id = s.user_id AND w.imported_at IS NOT NULL) THEN 'already'
           WHEN count(*) OVER (PARTITION BY s.user_id) > 1 THEN 'duplicate_in_seed'
           WHEN EXISTS (SELECT 1 FROM number_wallet.wallets w WHERE w.user_id = s.user_id) THEN 'wallet_exists'
           WHEN EXISTS (SELECT 1 FROM number_wallet.wallets w WHERE w.id = s.id) THEN 'id_taken'
           WHEN s.other_currency IS NOT NULL THEN 'unsupported_currency'
           WHEN s.usd < 0 OR s.inr < 0 THEN 'negative_balance'
           WHEN s.usd <> round(s.usd, 2) OR s.inr <> round(s.inr, 2)
                OR s.usd >= 1e12 OR s.inr >= 1e12 THEN 'invalid_balance'
           ELSE 'import'
         END AS action
    FROM pg_temp.nw_seed_wallets s;
  CREATE INDEX ON pg_temp.nw_plan_wallets (user_id);
  ANALYZE pg_temp.nw_plan_wallets;

  -- Numbers the seed holds (active with a sid), and the PAYMENT PROCESSING FAILED marks.
  CREATE TEMP TABLE nw_plan_numbers ON COMMIT DROP AS
  WITH n AS (
    SELECT s.*, s.phone ~ '^\+[1-9][0-9]{7,14}$' AS phone_ok,
           NOT s.is_active AND s.notes ILIKE '%PAYMENT PROCESSING FAILED%' AS payment_failed
      FROM pg_temp.nw_seed_numbers s
     WHERE s.is_active OR s.notes ILIKE '%PAYMENT PROCESSING FAILED%'
  ), d AS (
    SELECT n.*,
           count(*) FILTER (WHERE n.is_active AND n.phone_ok) OVER (PARTITION BY n.phone) AS same_phone,
           count(*) FILTER (WHERE n.is_active) OVER (PARTITION BY n.sid) AS same_sid
      FROM n
  )
  SELECT d.*,
         CASE
           WHEN d.id IS NULL THEN 'invalid_id'
           WHEN d.payment_failed THEN
             CASE WHEN EXISTS (SELECT 1 FROM number_wallet.discrepancies x
                                WHERE x.kind = 'imported_payment_failed' AND x.number_id = d.id) THEN 'already'
                  ELSE 'discrepancy' END
           WHEN d.user_id IS NULL THEN 'invalid_user_id'
           WHEN EXISTS (SELECT 1 FROM number_wallet.business_numbers b
                         WHERE b.id = d.id AND b.imported_at IS NOT NULL AND b.user_id = d.user_id
                           AND b.twilio_sid = d.sid) THEN 'already'
           WHEN d.sid IS NULL THEN 'no_twilio_sid'
           WHEN d.sid !~ '^[A-Za-z0-9_-]{2,64}$' THEN 'invalid_twilio_sid'
           WHEN NOT d.phone_ok THEN 'invalid_phone_number'
           WHEN d.same_phone > 1 OR d.same_sid > 1 THEN 'duplicate_in_seed'
           WHEN EXISTS (SELECT 1 FROM number_wallet.business_numbers b WHERE b.id = d.id) THEN 'id_taken'
           WHEN EXISTS (SELECT 1 FROM number_wallet.api_numbers b WHERE b.phone_number = d.phone AND b.held)
                THEN 'phone_number_held'
           WHEN EXISTS (SELECT 1 FROM number_wallet.business_numbers b WHERE b.twilio_sid = d.sid) THEN 'sid_held'
           WHEN d.monthly_cost IS NULL OR d.monthly_cost <= 0 THEN 'no_monthly_cost'
           WHEN d.monthly_cost <> round(d.monthly_cost, 2) OR d.monthly_cost >= 1e12 THEN 'invalid_monthly_cost'
           WHEN d.currency IS NOT NULL AND d.currency <> 'USD' THEN 'unsupported_currency'
           WHEN NOT EXISTS (SELECT 1 FROM number_wallet.wallets w WHERE w.user_id = d.user_id)
                AND NOT EXISTS (SELECT 1 FROM pg_temp.nw_plan_wallets p
                                 WHERE p.user_id = d.user_id AND p.action = 'import') THEN 'no_wallet'
           ELSE 'import'
         END AS action
    FROM d;
  ANALYZE pg_temp.nw_plan_numbers;

  CREATE TEMP TABLE nw_plan_transactions ON COMMIT DROP AS
  SELECT s.*, upper(btrim(s.type)) AS norm_type, upper(btrim(s.currency)) AS norm_currency,
         CASE
           WHEN s.id IS NULL THEN 'invalid_id'
           WHEN EXISTS (SELECT 1 FROM number_wallet.imported_transactions t WHERE t.id = s.id) THEN 'already'
           WHEN count(*) OVER (PARTITION BY s.id) > 1 THEN 'duplicate_in_seed'
           ELSE 'import'
         END AS action
    FROM pg_temp.nw_seed_transactions s;
  ANALYZE pg_temp.nw_plan_transactions;

  -- ---- the report ----
  SELECT count(*) FILTER (WHERE action = 'import') AS wallets_new,
         count(*) FILTER (WHERE action = 'already') AS wallets_old
    INTO v_counts FROM pg_temp.nw_plan_wallets;
  v_report := jsonb_build_object('dry_run', p_dry_run, 'schema', p_schema,
                                 'wallets', v_counts.wallets_new + v_counts.wallets_old);
  v_report := v_report || jsonb_build_object(
    'created', jsonb_build_object('wallets', v_counts.wallets_new),
    'already_imported', jsonb_build_object('wallets', v_counts.wallets_old));
  SELECT count(*) FILTER (WHERE action = 'import') AS numbers_new,
         count(*) FILTER (WHERE action = 'already' AND NOT payment_failed) AS numbers_old,
         count(*) FILTER (WHERE action = 'discrepancy') AS disc_new,
         count(*) FILTER (WHERE action = 'already' AND payment_failed) AS disc_old
    INTO v_counts FROM pg_temp.nw_plan_numbers;
  v_report := v_report || jsonb_build_object(
    'numbers', v_counts.numbers_new + v_counts.numbers_old,
    'discrepancies', v_counts.disc_new + v_counts.disc_old,
    'created', v_report -> 'created' || jsonb_build_object('numbers', v_counts.numbers_new,
                                                           'discrepancies', v_counts.disc_new),
    'already_imported', v_report -> 'already_imported' || jsonb_build_object('numbers', v_counts.numbers_old,
                                                                             'discrepancies', v_counts.disc_old));
  SELECT count(*) FILTER (WHERE action = 'import') AS txns_new,
         count(*) FILTER (WHERE action = 'already') AS txns_old
    INTO v_counts FROM pg_temp.nw_plan_transactions;
  v_report := v_report || jsonb_build_object(
    'transactions', v_counts.txns_new + v_counts.txns_old,
    'created', v_report -> 'created' || jsonb_build_object('transactions', v_counts.txns_new),
    'already_imported', v_report -> 'already_imported' || jsonb_build_object('transactions', v_counts.txns_old),
    'inactive_not_imported', (SELECT count(*) FROM pg_temp.nw_seed_numbers s
                               WHERE NOT s.is_active AND coalesce(s.notes NOT ILIKE '%PAYMENT PROCESSING FAILED%', true)));
  v_report := v_report || jsonb_build_object('replayed',
    (v_report #>> '{created,wallets}')::int + (v_report #>> '{created,numbers}')::int
      + (v_report #>> '{created,discrepancies}')::int + (v_report #>> '{created,transactions}')::int = 0
    AND (v_report #>> '{already_imported,wallets}')::int + (v_report #>> '{already_imported,numbers}')::int
      + (v_report #>> '{already_imported,discrepancies}')::int + (v_report #>> '{already_imported,transactions}')::int > 0);

  v_report := v_report || jsonb_build_object('skipped', coalesce((
    SELECT jsonb_agg(jsonb_build_object('table', k.tbl, 'id', k.raw_id, 'reason', k.reason, 'detail', k.detail)
                     ORDER BY k.ord, k.raw_id, k.reason)
      FROM (
        SELECT 1 AS ord, 'wallets' AS tbl, w.raw_id, w.action AS reason,
               CASE w.action
                 WHEN 'invalid_id' THEN 'The seed wallet''s id is not a uuid.'
                 WHEN 'invalid_user_id' THEN 'The seed wallet''s user_id is not a uuid.'
                 WHEN 'duplicate_in_seed' THEN format('User %s has more than one seed wallet.', w.user_id)
                 WHEN 'wallet_exists' THEN format('User %s already has a wallet here; its seed balances (USD %s, INR %s) were not added.', w.user_id, w.usd, w.inr)
                 WHEN 'id_taken' THEN 'A wallet of another user here has this id.'
                 WHEN 'unsupported_currency' THEN format('The wallet holds %s, neither USD nor INR.', w.other_currency)
                 WHEN 'negative_balance' THEN format('Negative balance (USD %s, INR %s).', w.usd, w.inr)
                 WHEN 'invalid_balance' THEN format('A balance has more than two decimals or is too large (USD %s, INR %s).', w.usd, w.inr)
               END AS detail
          FROM pg_temp.nw_plan_wallets w WHERE w.action NOT IN ('import', 'already')
        UNION ALL
        SELECT 2, 'business_numbers', n.raw_id, n.action,
               CASE n.action
                 WHEN 'invalid_id' THEN 'The seed number''s id is not a uuid.'
                 WHEN 'invalid_user_id' THEN 'The seed number''s user_id is not a uuid.'
                 WHEN 'no_twilio_sid' THEN 'An active seed number without a twilio_sid cannot be matched with Twilio.'
                 WHEN 'invalid_twilio_sid' THEN format('twilio_sid %s is not a Twilio sid.', n.sid)
                 WHEN 'invalid_phone_number' THEN format('Phone number %s is not E.164 and cannot be normalised without guessing%s.',
                   n.raw_phone,
                   CASE WHEN n.phone ~ '[A-Za-z]' THEN ' (it has letters)'
                        WHEN n.phone !~ '^\+' THEN ' (no + and country code)' ELSE '' END)
                 WHEN 'duplicate_in_seed' THEN format('Another active seed number has phone number %s or sid %s.', n.phone, n.sid)
                 WHEN 'id_taken' THEN 'A number here already has this id.'
                 WHEN 'phone_number_held' THEN format('Phone number %s is already held here.', n.phone)
                 WHEN 'sid_held' THEN format('twilio_sid %s is already on a number here.', n.sid)
                 WHEN 'no_monthly_cost' THEN 'The seed number has no monthly cost.'
                 WHEN 'invalid_monthly_cost' THEN format('Monthly cost %s has more than two decimals or is too large.', n.monthly_cost)
                 WHEN 'unsupported_currency' THEN format('The number is priced in %s; imported numbers are priced in USD.', n.currency)
                 WHEN 'no_wallet' THEN format('User %s has no wallet here%s.', n.user_id,
                   CASE WHEN EXISTS (SELECT 1 FROM pg_temp.nw_plan_wallets p WHERE p.user_id = n.user_id)
                        THEN ' (the seed wallet was skipped)' ELSE ' and none in the seed' END)
               END
          FROM pg_temp.nw_plan_numbers n WHERE n.action NOT IN ('import', 'already', 'discrepancy')
        UNION ALL
        SELECT 3, 'transactions', t.raw_id, t.action,
               CASE t.action WHEN 'invalid_id' THEN 'The seed transaction''s id is not a uuid.'
                             WHEN 'duplicate_in_seed' THEN 'Two seed transactions have this id.' END
          FROM pg_temp.nw_plan_transactions t WHERE t.action NOT IN ('import', 'already')
      ) k), '[]'::jsonb));

  -- The seed's own check: each wallet's balances against the sum of its
  -- transactions (CREDIT adds, DEBIT subtracts), per currency.
  v_report := v_report || jsonb_build_object('balance_mismatches', coalesce((
    SELECT jsonb_agg(jsonb_build_object('user_id', m.user_id, 'currency', m.currency,
                                        'balance', round(m.balance, 2)::text,
                                        'transactions_total', round(m.total, 2)::text)
                     ORDER BY m.user_id, m.currency)
      FROM (
        SELECT w.user_id, c.currency, c.balance, coalesce(x.total, 0) AS total
          FROM pg_temp.nw_plan_wallets w
         CROSS JOIN LATERAL (VALUES ('USD', w.usd), ('INR', w.inr)) AS c(currency, balance)
          LEFT JOIN (SELECT t.user_id, t.norm_currency AS currency,
                            sum(CASE t.norm_type WHEN 'CREDIT' THEN t.amount ELSE -t.amount END) AS total
                       FROM pg_temp.nw_plan_transactions t
                      WHERE t.norm_type IN ('CREDIT', 'DEBIT') AND t.amount IS NOT NULL AND t.user_id IS NOT NULL
                      GROUP BY 1, 2) x ON x.user_id = w.user_id AND x.currency = c.currency
         WHERE w.user_id IS NOT NULL AND w.action <> 'duplicate_in_seed'
      ) m
     WHERE m.balance <> m.total), '[]'::jsonb));
  -- Seed transactions the balance check could not count (kept in history all the same).
  v_report := v_report || jsonb_build_object('transactions_not_counted', coalesce((
    SELECT jsonb_agg(jsonb_build_object('id', t.raw_id, 'reason',
             CASE WHEN t.user_id IS NULL THEN 'no_user'
                  WHEN t.norm_type IS NULL OR t.norm_type NOT IN ('CREDIT', 'DEBIT') THEN 'unknown_type'
                  WHEN t.amount IS NULL THEN 'no_amount'
                  ELSE 'unsupported_currency' END) ORDER BY t.raw_id)
      FROM pg_temp.nw_plan_transactions t
     WHERE t.user_id IS NULL OR t.norm_type IS NULL OR t.norm_type NOT IN ('CREDIT', 'DEBIT')
        OR t.amount IS NULL OR t.norm_currency IS NULL OR t.norm_currency NOT IN ('USD', 'INR')), '[]'::jsonb));

  IF p_dry_run THEN
    RETURN v_report;
  END IF;

  -- ---- the import: four statements, every row through the row rules ----
  -- Each wallet and its opening balances in one statement (a balance never
  -- exists without the ledger rows that explain it).
  WITH w AS (
    INSERT INTO number_wallet.wallets (id, user_id, balance_usd, balance_inr, is_active, created_at, updated_at,
                                       imported_at)
    SELECT p.id, p.user_id, p.usd, p.inr, true, coalesce(p.created_at, v_now), v_now, v_now
      FROM pg_temp.nw_plan_wallets p WHERE p.action = 'import'
     ORDER BY p.id
    RETURNING id, user_id, balance_usd, balance_inr
  )
  INSERT INTO number_wallet.transactions (wallet_id, user_id, type, kind, amount, currency, balance_after,
                                          description, created_at)
  SELECT w.id, w.user_id, 'CREDIT', 'adjustment', c.amount, c.currency, c.amount, 'Opening balance: imported', v_now
    FROM w CROSS JOIN LATERAL (VALUES ('USD', w.balance_usd), ('INR', w.balance_inr)) AS c(currency, amount)
   WHERE c.amount > 0
   ORDER BY w.id, c.currency;

  -- Numbers: active, paid until the first monthly anniversary of the purchase
  -- after the import (UTC, on the purchase's day of the month, as renewals count).
  INSERT INTO number_wallet.business_numbers (id, user_id, phone_number, display_name, twilio_sid, status,
                                              monthly_cost, currency, purchase_date, paid_until, refund_window_days,
                                              provider, notes, created_at, updated_at, imported_at)
  SELECT p.id, p.user_id, p.phone, left(p.display_name, 64), p.sid, 'active', p.monthly_cost, 'USD', a.bought,
         CASE WHEN a.at_m > v_now THEN a.at_m ELSE a.at_m1 END,
         v_window, 'twilio', p.notes, coalesce(p.created_at, a.bought), v_now, v_now
    FROM pg_temp.nw_plan_numbers p
   CROSS JOIN LATERAL (SELECT coalesce(p.purchase_date, v_now) AS bought) b
   CROSS JOIN LATERAL (
     SELECT b.bought,
            ((b.bought AT TIME ZONE 'UTC') + make_interval(months => greatest(m.months, 1))) AT TIME ZONE 'UTC' AS at_m,
            ((b.bought AT TIME ZONE 'UTC') + make_interval(months => greatest(m.months + 1, 1))) AT TIME ZONE 'UTC' AS at_m1
       FROM (SELECT ((extract(year FROM v_now AT TIME ZONE 'UTC') - extract(year FROM b.bought AT TIME ZONE 'UTC')) * 12
                     + extract(month FROM v_now AT TIME ZONE 'UTC') - extract(month FROM b.bought AT TIME ZONE 'UTC'))::int
                    AS months) m) a
   WHERE p.action = 'import'
   ORDER BY p.id;

  INSERT INTO number_wallet.discrepancies (kind, phone_number, twilio_sid, number_id, detail)
  SELECT 'imported_payment_failed', CASE WHEN p.phone_ok THEN p.phone END,
         coalesce(CASE WHEN p.sid ~ '^[A-Za-z0-9_-]{2,64}$' THEN p.sid END,
                  substring(p.notes FROM '\((PN[0-9A-Fa-f]{32})\)')),
         p.id,
         left(format('Seed number %s of user %s (%s) was bought at Twilio but never paid for in the seed: %s',
                     p.raw_id, coalesce(p.user_id::text, '?'), p.raw_phone, p.notes), 2000)
    FROM pg_temp.nw_plan_numbers p WHERE p.action = 'discrepancy'
  ON CONFLICT (kind, phone_number, twilio_sid, number_id) WHERE resolved_at IS NULL DO NOTHING;

  INSERT INTO number_wallet.imported_transactions (id, user_id, type, amount, currency, description, reference_id,
                                                   created_at, seed_row, source_schema, imported_at)
  SELECT t.id, t.user_id, t.type, t.amount, t.currency, t.description, t.reference_id, t.created_at, t.seed_row,
         p_schema, v_now
    FROM pg_temp.nw_plan_transactions t WHERE t.action = 'import'
  ON CONFLICT (id) DO NOTHING;

  INSERT INTO number_wallet.seed_imports (source_schema, report) VALUES (p_schema, v_report);
  RETURN v_report;
END
$fn$;
COMMENT ON FUNCTION @extschema@.import_seed(name, boolean) IS
  'Superuser or owner: imports a seed deployment''s wallets, numbers and transactions from schema p_schema '
  '(a dry run by default); idempotent, one transaction; reports what it created and what it skipped.';
REVOKE ALL ON FUNCTION @extschema@.import_seed(name, boolean) FROM PUBLIC;

-- Makes a role an end user: membership in number_wallet_user and the same
-- privileges granted directly, for NOINHERIT roles such as Supabase's
-- authenticated. The owner's alone.
CREATE FUNCTION @extschema@.grant_end_user(p_role regrole)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_role IS NULL THEN
    RAISE EXCEPTION 'p_role must not be null' USING ERRCODE = '22023';
  END IF;
  EXECUTE format('GRANT number_wallet_user TO %s', p_role);
  EXECUTE format('GRANT USAGE ON SCHEMA number_wallet TO %s', p_role);
  EXECUTE format('GRANT SELECT ON number_wallet.wallets, number_wallet.business_numbers, '
                 'number_wallet.transactions TO %s', p_role);
  EXECUTE format('GRANT EXECUTE ON FUNCTION number_wallet.refund_quote(uuid, timestamptz), '
                 'number_wallet.release_number(uuid, uuid), number_wallet._row_visible(uuid), '
                 'number_wallet._claimed_user() TO %s', p_role);
END
$$;
COMMENT ON FUNCTION @extschema@.grant_end_user(regrole) IS
  'Makes a role an end user: number_wallet_user and the same privileges directly (for NOINHERIT roles).';
REVOKE ALL ON FUNCTION @extschema@.grant_end_user(regrole) FROM PUBLIC;

-- ===========================================================================
-- Guards: privileges, DROP EXTENSION, the C++/PostgreSQL boundary
-- ===========================================================================

-- docs/sql-api.md "Defence in depth": a role given everything by a blanket
-- GRANT ALL ON ALL TABLES / ROUTINES / SEQUENCES IN SCHEMA number_wallet (as
-- Supabase's guide for a custom schema does for anon and authenticated) gains
-- nothing beyond what grant_end_user gives. Four layers, each enough alone for
-- what it covers: row-level security with SELECT policies only; TRUNCATE
-- refused on every table; every function that reads or changes data checks
-- its caller itself; and this event trigger, which takes back, after every
-- GRANT (and after CREATE/ALTER EXTENSION, which may add objects under
-- someone's ALTER DEFAULT PRIVILEGES), any privilege on the extension's objects
-- held by a role other than the owner, number_wallet_user and
-- number_wallet_service, unless the role is a member of one of those two and
-- that role holds the same privilege itself (what grant_end_user grants a
-- NOINHERIT end user). A blanket GRANT ALL ON ALL SEQUENCES would otherwise let
-- setval() move the ledger's ids; GRANT ALL ON ALL TABLES would give TRIGGER.
-- SECURITY DEFINER: a REVOKE must come from the owner, who granted.
CREATE FUNCTION @extschema@.keep_privileges() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_user oid := (SELECT oid FROM pg_roles WHERE rolname = 'number_wallet_user');
  v_service oid := (SELECT oid FROM pg_roles WHERE rolname = 'number_wallet_service');
  r record;
BEGIN
  FOR r IN
    WITH ext AS (
      SELECT e.oid, e.extnamespace FROM pg_extension e WHERE e.extname = 'number_wallet'
    ), objects AS (
      SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
             format('%I.%I', n.nspname, c.relname) AS name, c.relowner AS owner,
             coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's'::"char" ELSE 'r'::"char" END, c.relowner)) AS acl
        FROM ext JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
                                 AND d.deptype = 'e' AND d.classid = 'pg_class'::regclass
        JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
      UNION ALL
      SELECT 'FUNCTION', p.oid::regprocedure::text, p.proowner, coalesce(p.proacl, acldefault('f'::"char", p.proowner))
        FROM ext JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
                                 AND d.deptype = 'e' AND d.classid = 'pg_proc'::regclass
        JOIN pg_proc p ON p.oid = d.objid
      UNION ALL
      SELECT 'SCHEMA', quote_ident(n.nspname), n.nspowner, coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))
        FROM ext JOIN pg_namespace n ON n.oid = ext.extnamespace
    )
    SELECT DISTINCT o.kind, o.name, a.privilege_type,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee
      FROM objects o CROSS JOIN LATERAL aclexplode(o.acl) a
     WHERE a.grantee <> o.owner
       AND a.grantee NOT IN (v_user, v_service)
       AND NOT (a.grantee <> 0 AND EXISTS (
             SELECT 1 FROM aclexplode(o.acl) b
              WHERE b.grantee IN (v_user, v_service) AND b.privilege_type = a.privilege_type
                AND pg_has_role(a.grantee, b.grantee, 'MEMBER')))
     ORDER BY 1, 2, 4, 3
  LOOP
    EXECUTE format('REVOKE %s ON %s %s FROM %s CASCADE', r.privilege_type, r.kind, r.name, r.grantee);
  END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.keep_privileges() IS
  'Event trigger: takes back privileges on the extension''s objects that the extension does not give.';
REVOKE ALL ON FUNCTION @extschema@.keep_privileges() FROM PUBLIC;
CREATE EVENT TRIGGER number_wallet_keep_privileges ON ddl_command_end
  WHEN TAG IN ('GRANT', 'CREATE EXTENSION', 'ALTER EXTENSION')
  EXECUTE FUNCTION @extschema@.keep_privileges();
ALTER EVENT TRIGGER number_wallet_keep_privileges ENABLE ALWAYS;

-- DROP EXTENSION number_wallet drops the ledger with every row: refused while
-- it holds rows unless CASCADE says so (drop_guard.cpp).
CREATE FUNCTION @extschema@.drop_guard() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'nw_drop_guard' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.drop_guard() IS
  'Event trigger: a plain DROP EXTENSION number_wallet is refused while the ledger holds rows (CASCADE forces it).';
REVOKE ALL ON FUNCTION @extschema@.drop_guard() FROM PUBLIC;
CREATE EVENT TRIGGER number_wallet_drop_guard ON ddl_command_start
  WHEN TAG IN ('DROP EXTENSION')
  EXECUTE FUNCTION @extschema@.drop_guard();
ALTER EVENT TRIGGER number_wallet_drop_guard ENABLE ALWAYS;

-- Proves the C++/PostgreSQL guard (superuser only): each kind throws a
-- different C++ exception inside RunGuarded; see boundary_selftest.cpp.
CREATE FUNCTION @extschema@._boundary_selftest(p_kind text)
RETURNS text AS 'MODULE_PATHNAME', 'nw_boundary_selftest' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@._boundary_selftest(text) IS
  'Internal, superuser only: proves the C++/PostgreSQL error guard.';
REVOKE ALL ON FUNCTION @extschema@._boundary_selftest(text) FROM PUBLIC;
