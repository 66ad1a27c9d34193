/* sql/number_wallet--1.0.sql: the number_wallet extension, version 1.0 (docs/sql-api.md). */
\echo Use "CREATE EXTENSION number_wallet" to load this file. \quit

-- Roles are cluster-wide: create them only if an earlier install did not.
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

-- ---------------------------------------------------------------------------
-- Tables. No foreign keys between them: the functions are the only writers,
-- wallet_reconcile() audits the links, and pg_dump restores extension
-- configuration tables in an order foreign keys would not survive.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.wallets (
  id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
  user_id     uuid NOT NULL UNIQUE,
  balance_usd numeric(14,2) NOT NULL DEFAULT 0 CHECK (balance_usd >= 0),
  balance_inr numeric(14,2) NOT NULL DEFAULT 0 CHECK (balance_inr >= 0),
  is_active   boolean NOT NULL DEFAULT true,  -- kept for the seed's queries; always true
  created_at  timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp()
);

CREATE TABLE @extschema@.business_numbers (
  id                   uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
  user_id              uuid NOT NULL,
  phone_number         text NOT NULL,
  display_name         text,
  twilio_sid           text UNIQUE,
  status               text NOT NULL DEFAULT 'pending',
  is_active            boolean NOT NULL DEFAULT false,  -- status = 'active', kept by the rules trigger
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
  updated_at           timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp()
);
-- At most one row per phone number is held: pending, active, or released and
-- not yet deleted at the provider.
CREATE UNIQUE INDEX business_numbers_held_phone_number ON @extschema@.business_numbers (phone_number)
  WHERE (status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL));
CREATE UNIQUE INDEX business_numbers_idempotency_key ON @extschema@.business_numbers (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX business_numbers_user_created ON @extschema@.business_numbers (user_id, created_at);
CREATE INDEX business_numbers_due ON @extschema@.business_numbers (paid_until) WHERE status = 'active';
CREATE INDEX business_numbers_unsettled ON @extschema@.business_numbers (created_at)
  WHERE status = 'pending' OR (status = 'released' AND provider_released_at IS NULL);

-- The ledger: append-only; within one wallet and currency, ids increase in the
-- order entries were applied and balance_after is the running balance.
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
-- A number has at most one purchase, one reversal and one refund entry.
CREATE UNIQUE INDEX transactions_one_per_number ON @extschema@.transactions (number_id, kind)
  WHERE kind IN ('purchase', 'reversal', 'refund');
CREATE INDEX transactions_renewals ON @extschema@.transactions (number_id) WHERE kind = 'renewal';
CREATE UNIQUE INDEX transactions_idempotency_key ON @extschema@.transactions (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX transactions_user ON @extschema@.transactions (user_id, id);

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
-- One open finding per (kind, phone_number, twilio_sid, number_id), NULLs equal.
CREATE UNIQUE INDEX discrepancies_open ON @extschema@.discrepancies (kind, phone_number, twilio_sid, number_id)
  NULLS NOT DISTINCT WHERE resolved_at IS NULL;
CREATE INDEX discrepancies_number ON @extschema@.discrepancies (number_id) WHERE resolved_at IS NULL;

-- pg_dump keeps the rows (and the identity sequences' positions) of extension tables.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.wallets', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.business_numbers', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.transactions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.discrepancies', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.transactions', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.discrepancies', 'id'), '');

-- Row rules (what CHECK constraints would say) as C triggers: PostgreSQL
-- re-plans CHECK expressions at every statement start, a fifth of a
-- purchase's CPU; see extension/row_rules.cpp. Wallet balances keep their CHECKs.
CREATE FUNCTION @extschema@.business_numbers_rules() RETURNS trigger
AS 'MODULE_PATHNAME', 'nw_business_numbers_rules' LANGUAGE C;
CREATE FUNCTION @extschema@.transactions_rules() RETURNS trigger
AS 'MODULE_PATHNAME', 'nw_transactions_rules' LANGUAGE C;
CREATE TRIGGER business_numbers_rules BEFORE INSERT OR UPDATE ON @extschema@.business_numbers
  FOR EACH ROW EXECUTE FUNCTION @extschema@.business_numbers_rules();
CREATE TRIGGER transactions_rules BEFORE INSERT ON @extschema@.transactions
  FOR EACH ROW EXECUTE FUNCTION @extschema@.transactions_rules();
ALTER TABLE @extschema@.business_numbers ENABLE ALWAYS TRIGGER business_numbers_rules;
ALTER TABLE @extschema@.transactions ENABLE ALWAYS TRIGGER transactions_rules;

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
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON @extschema@.transactions
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_ledger_change();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON @extschema@.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_ledger_change();
-- Also under session_replication_role = replica (logical replication apply, restores).
ALTER TABLE @extschema@.transactions ENABLE ALWAYS TRIGGER transactions_append_only;
ALTER TABLE @extschema@.transactions ENABLE ALWAYS TRIGGER transactions_no_truncate;

-- ---------------------------------------------------------------------------
-- Row visibility: the caller rules of docs/sql-api.md, in C (caller.cpp).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.row_visible(p_user_id uuid) RETURNS boolean
AS 'MODULE_PATHNAME', 'nw_row_visible' LANGUAGE C STABLE PARALLEL SAFE;

ALTER TABLE @extschema@.wallets ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.business_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.transactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY wallets_visible ON @extschema@.wallets FOR SELECT USING (@extschema@.row_visible(user_id));
CREATE POLICY business_numbers_visible ON @extschema@.business_numbers FOR SELECT
  USING (@extschema@.row_visible(user_id));
CREATE POLICY transactions_visible ON @extschema@.transactions FOR SELECT USING (@extschema@.row_visible(user_id));

-- ---------------------------------------------------------------------------
-- The SQL API. Every function is SECURITY DEFINER with a pinned search_path:
-- it runs as the extension owner and decides in C who the caller is.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.wallet_credit(p_user_id uuid, p_amount numeric, p_currency text DEFAULT 'USD',
                                          p_description text DEFAULT 'Top-up', p_idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_wallet_credit'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.update_wallet_balance_atomic(p_wallet_id uuid, p_amount numeric, p_currency text)
RETURNS @extschema@.wallets AS 'MODULE_PATHNAME', 'nw_update_wallet_balance_atomic'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.purchase_number(p_user_id uuid, p_phone_number text, p_monthly_cost numeric,
                                            p_currency text DEFAULT 'USD', p_display_name text DEFAULT NULL,
                                            p_idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_purchase_number'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.confirm_purchase(p_number_id uuid, p_twilio_sid text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_confirm_purchase'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.fail_purchase(p_number_id uuid, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_fail_purchase'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.refund_quote(p_number_id uuid, p_at timestamptz DEFAULT now())
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_refund_quote'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.release_number(p_user_id uuid, p_number_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_release_number'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.mark_provider_released(p_number_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_mark_provider_released'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.renew_due_numbers(p_limit integer DEFAULT 100)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_renew_due_numbers'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Internal to purchase_number (see reserve_in_one in purchase_functions.cpp).
CREATE FUNCTION @extschema@.snapshot_sees(p_xmin xid) RETURNS boolean
AS 'MODULE_PATHNAME', 'nw_snapshot_sees' LANGUAGE C VOLATILE;

-- Proves the C++/PostgreSQL guard (superuser only); see boundary_selftest.cpp.
CREATE FUNCTION @extschema@.boundary_selftest(p_kind text)
RETURNS text AS 'MODULE_PATHNAME', 'nw_boundary_selftest' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.record_discrepancy(p_kind text, p_phone_number text, p_twilio_sid text,
                                               p_number_id uuid, p_detail text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_id bigint;
BEGIN
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
  INSERT INTO number_wallet.discrepancies (kind, phone_number, twilio_sid, number_id, detail)
  VALUES (p_kind, p_phone_number, p_twilio_sid, p_number_id, p_detail)
  ON CONFLICT (kind, phone_number, twilio_sid, number_id) WHERE resolved_at IS NULL DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    SELECT d.id INTO v_id FROM number_wallet.discrepancies d
     WHERE d.kind = p_kind AND d.phone_number IS NOT DISTINCT FROM p_phone_number
       AND d.twilio_sid IS NOT DISTINCT FROM p_twilio_sid AND d.number_id IS NOT DISTINCT FROM p_number_id
       AND d.resolved_at IS NULL;
  END IF;
  RETURN v_id;
END
$$;

CREATE FUNCTION @extschema@.resolve_discrepancy(p_id bigint, p_note text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_row number_wallet.discrepancies;
  v_replayed boolean := true;
BEGIN
  IF p_id IS NULL THEN
    RAISE EXCEPTION 'p_id must not be null' USING ERRCODE = '22023';
  END IF;
  IF char_length(p_note) > 2000 THEN
    RAISE EXCEPTION 'note must be at most 2000 characters' USING ERRCODE = '22023';
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
  RETURN jsonb_build_object('id', v_row.id, 'kind', v_row.kind, 'resolved_at',
                            to_char(v_row.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                            'note', v_row.resolution_note, 'replayed', v_replayed);
END
$$;

-- Makes a role an end user: membership in number_wallet_user and the same
-- privileges granted directly, for NOINHERIT roles such as Supabase's authenticated.
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
                 'number_wallet.release_number(uuid, uuid), number_wallet.row_visible(uuid) TO %s', p_role);
END
$$;

-- Audits the invariants of docs/architecture.md "Invariants" from the raw tables; empty when all is well.
CREATE FUNCTION @extschema@.wallet_reconcile()
RETURNS TABLE (kind text, wallet_id uuid, user_id uuid, number_id uuid, currency text,
               expected numeric, actual numeric, detail text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
           CASE WHEN coalesce(e.purchases, 0) <> 1 THEN format('%s purchase entries (want 1).', coalesce(e.purchases, 0)) END,
           CASE WHEN n.status = 'failed' AND coalesce(e.reversals, 0) <> 1 THEN 'A failed number needs exactly one reversal.' END,
           CASE WHEN n.status <> 'failed' AND coalesce(e.reversals, 0) > 0 THEN 'Only a failed number may have a reversal.' END,
           CASE WHEN n.status <> 'released' AND coalesce(e.refunds, 0) > 0 THEN 'Only a released number may have a refund.' END,
           CASE WHEN e.reversal_amount <> e.purchase_amount THEN 'The reversal differs from the purchase.' END,
           CASE WHEN e.refund_amount <> e.purchase_amount THEN 'The refund differs from the purchase.' END,
           CASE WHEN e.foreign_entry THEN 'An entry has another user or currency than the number.' END)
    FROM number_wallet.business_numbers n LEFT JOIN entries e ON e.number_id = n.id
   WHERE coalesce(e.purchases, 0) <> 1
      OR (n.status = 'failed') <> (coalesce(e.reversals, 0) = 1)
      OR (n.status <> 'released' AND coalesce(e.refunds, 0) > 0)
      OR e.reversal_amount <> e.purchase_amount
      OR e.refund_amount <> e.purchase_amount
      OR e.foreign_entry
  UNION ALL
  SELECT 'entry_without_number', NULL, NULL, e.number_id, NULL, NULL, NULL,
         'Ledger entries reference a number that does not exist.'
    FROM entries e WHERE e.orphan
$$;

-- ---------------------------------------------------------------------------
-- Monitoring views (service only). They replace the seed's "manual
-- intervention" notes, which this design never needs to write.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.numbers_needing_intervention WITH (security_invoker = true) AS
  SELECT n.id, NULL::bigint AS discrepancy_id, n.user_id, n.phone_number, n.twilio_sid, n.status,
         'pending_too_long'::text AS reason, n.created_at AS since
    FROM @extschema@.business_numbers n
   WHERE n.status = 'pending'
     AND n.created_at < statement_timestamp() - make_interval(secs =>
           coalesce(nullif(current_setting('number_wallet.pending_alert_seconds', true), '')::integer, 300))
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

CREATE VIEW @extschema@.daily_transaction_summary WITH (security_invoker = true) AS
  SELECT (t.created_at AT TIME ZONE 'UTC')::date AS date, t.type, t.kind, t.currency,
         count(*) AS count, sum(t.amount) AS total
    FROM @extschema@.transactions t
   GROUP BY 1, 2, 3, 4;

CREATE VIEW @extschema@.purchase_success_rate WITH (security_invoker = true) AS
  SELECT count(*) FILTER (WHERE n.purchase_date IS NOT NULL) AS successful,
         count(*) FILTER (WHERE n.status = 'failed') AS failed,
         count(*) FILTER (WHERE n.status = 'pending') AS pending,
         count(*) AS total,
         round(100.0 * count(*) FILTER (WHERE n.purchase_date IS NOT NULL) / nullif(count(*), 0), 2) AS success_rate
    FROM @extschema@.business_numbers n
   WHERE n.created_at >= statement_timestamp() - interval '30 days';

-- ---------------------------------------------------------------------------
-- Privileges: nothing for PUBLIC; end users read their own rows and call the
-- "user" functions; the service role does the rest.
-- ---------------------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;

GRANT USAGE ON SCHEMA @extschema@ TO number_wallet_user, number_wallet_service;
GRANT SELECT ON @extschema@.wallets, @extschema@.business_numbers, @extschema@.transactions
  TO number_wallet_user;
GRANT EXECUTE ON FUNCTION @extschema@.refund_quote(uuid, timestamptz), @extschema@.release_number(uuid, uuid),
  @extschema@.row_visible(uuid) TO number_wallet_user;

GRANT SELECT ON ALL TABLES IN SCHEMA @extschema@ TO number_wallet_service;
GRANT EXECUTE ON FUNCTION
  @extschema@.wallet_credit(uuid, numeric, text, text, text),
  @extschema@.update_wallet_balance_atomic(uuid, numeric, text),
  @extschema@.purchase_number(uuid, text, numeric, text, text, text),
  @extschema@.confirm_purchase(uuid, text),
  @extschema@.fail_purchase(uuid, text),
  @extschema@.refund_quote(uuid, timestamptz),
  @extschema@.release_number(uuid, uuid),
  @extschema@.mark_provider_released(uuid),
  @extschema@.renew_due_numbers(integer),
  @extschema@.record_discrepancy(text, text, text, uuid, text),
  @extschema@.resolve_discrepancy(bigint, text),
  @extschema@.wallet_reconcile(),
  @extschema@.row_visible(uuid)
  TO number_wallet_service;
