/* sql/number_wallet--1.1--1.2.sql: number_wallet 1.1 -> 1.2.
 *
 * A fresh CREATE EXTENSION runs 1.0, 1.1 and then this script; an existing
 * database gets here with ALTER EXTENSION number_wallet UPDATE.
 * test/e2e/upgrade_test.sh checks that both roads end in the same catalog.
 */
\echo Use "ALTER EXTENSION number_wallet UPDATE TO '1.2'" to load this file. \quit

-- ==== renewal fairness and billing periods ====
-- renew_due_numbers picks the due numbers not tried since they fell due first,
-- then the ones it left unpaid, least recently tried first, at most hourly
-- (docs/sql-api.md "Renewal fairness"); renewal_attempted_at records the last try.
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

-- ==== defence in depth, freshness, drop guard ====
--
-- docs/sql-api.md "Defence in depth": a role given everything by a blanket
-- GRANT ALL ON ALL TABLES / ROUTINES / SEQUENCES IN SCHEMA number_wallet (as
-- Supabase's guide for a custom schema does for anon and authenticated) gains
-- nothing beyond what grant_end_user gives. Four layers, each enough alone for
-- what it covers:
--   * row-level security on every table, with SELECT policies only: no role
--     but the owner (the SECURITY DEFINER functions) inserts, updates or
--     deletes a row, and an end user reads only its claimed user's rows;
--   * TRUNCATE refused on every table (row-level security does not cover it);
--   * every function that reads or changes data checks its caller itself;
--   * an event trigger that takes back, after every GRANT, any privilege on the
--     extension's objects that the extension does not give itself (below).

-- Caller checks shared by the policies and the PL/pgSQL functions (caller.cpp).
CREATE FUNCTION @extschema@.claimed_user() RETURNS uuid
AS 'MODULE_PATHNAME', 'nw_claimed_user' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.require_service(p_function text) RETURNS void
AS 'MODULE_PATHNAME', 'nw_require_service' LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION @extschema@.claimed_user(), @extschema@.require_service(text) FROM PUBLIC;
-- Policies run with the querying role's rights: whoever may read the tables
-- needs claimed_user(). require_service runs only inside SECURITY DEFINER
-- functions, as the owner: nobody else needs it.
GRANT EXECUTE ON FUNCTION @extschema@.claimed_user() TO number_wallet_user, number_wallet_service;
-- End users made by grant_end_user before 1.2 hold the privileges directly
-- (NOINHERIT roles): give them the new one the same way.
DO $grant$
DECLARE
  v_role regrole;
BEGIN
  FOR v_role IN SELECT m.member::regrole FROM pg_catalog.pg_auth_members m
                 WHERE m.roleid = 'number_wallet_user'::regrole ORDER BY m.member LOOP
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.claimed_user() TO %s', v_role);
  END LOOP;
END
$grant$;
COMMENT ON FUNCTION @extschema@.claimed_user() IS
  'Row-level security: the user a trusted end user''s claims name, or NULL for anyone else.';
COMMENT ON FUNCTION @extschema@.require_service(text) IS
  'Internal: refuses (42501) a caller that is not the service role or a superuser.';

-- Row-level security an index can serve. The old policies called
-- row_visible(user_id) for every row: the claims JSON parsed again per row and
-- no index usable, so any end user could make PostgREST scan the whole ledger.
-- Now the end user's policy compares user_id with an uncorrelated subquery,
-- evaluated once per statement (an initplan), which the (user_id, ...)
-- indexes serve; the service role has a policy of its own that sees every row
-- (superusers and the owner bypass row-level security anyway).
ALTER POLICY wallets_visible ON @extschema@.wallets USING (user_id = (SELECT @extschema@.claimed_user()));
ALTER POLICY business_numbers_visible ON @extschema@.business_numbers
  USING (user_id = (SELECT @extschema@.claimed_user()));
ALTER POLICY transactions_visible ON @extschema@.transactions USING (user_id = (SELECT @extschema@.claimed_user()));
CREATE POLICY wallets_service ON @extschema@.wallets FOR SELECT TO number_wallet_service USING (true);
CREATE POLICY business_numbers_service ON @extschema@.business_numbers FOR SELECT TO number_wallet_service
  USING (true);
CREATE POLICY transactions_service ON @extschema@.transactions FOR SELECT TO number_wallet_service USING (true);
-- Findings are the service's alone.
ALTER TABLE @extschema@.discrepancies ENABLE ROW LEVEL SECURITY;
CREATE POLICY discrepancies_service ON @extschema@.discrepancies FOR SELECT TO number_wallet_service USING (true);

-- TRUNCATE, which row-level security does not cover, is refused on every
-- table (the ledger already refused it): balances, numbers and findings are
-- tied to the append-only ledger. Also under session_replication_role = replica.
CREATE FUNCTION @extschema@.refuse_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'TRUNCATE is not allowed on %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = '42501',
          DETAIL = 'Wallets, numbers and findings are tied to the append-only ledger.',
          HINT = 'They change only through the number_wallet functions.';
END
$$;
REVOKE ALL ON FUNCTION @extschema@.refuse_truncate() FROM PUBLIC;
CREATE TRIGGER wallets_no_truncate BEFORE TRUNCATE ON @extschema@.wallets
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER business_numbers_no_truncate BEFORE TRUNCATE ON @extschema@.business_numbers
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER discrepancies_no_truncate BEFORE TRUNCATE ON @extschema@.discrepancies
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
ALTER TABLE @extschema@.wallets ENABLE ALWAYS TRIGGER wallets_no_truncate;
ALTER TABLE @extschema@.business_numbers ENABLE ALWAYS TRIGGER business_numbers_no_truncate;
ALTER TABLE @extschema@.discrepancies ENABLE ALWAYS TRIGGER discrepancies_no_truncate;
COMMENT ON FUNCTION @extschema@.refuse_truncate() IS 'Trigger: TRUNCATE is refused on every table of the extension.';

-- Freshness of purchase_number no longer compares raw xmins (they survive
-- freezing and wrap around): see reserve_in_one in purchase_functions.cpp.
DROP FUNCTION @extschema@.snapshot_sees(xid);

-- The service functions written in PL/pgSQL or SQL check their caller like the
-- C ones: EXECUTE granted by mistake (or by a blanket GRANT) opens nothing.
-- record_discrepancy: ON CONFLICT DO UPDATE (a no-op update) instead of DO
-- NOTHING plus a second look-up. DO NOTHING could answer NULL: when the open
-- row it conflicted with was resolved before the look-up ran, the look-up
-- found nothing. DO UPDATE returns the one open row it conflicted with, and
-- its row lock orders a concurrent resolve after this call.
CREATE OR REPLACE FUNCTION @extschema@.record_discrepancy(p_kind text, p_phone_number text, p_twilio_sid text,
                                                         p_number_id uuid, p_detail text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_id bigint;
BEGIN
  PERFORM number_wallet.require_service('record_discrepancy');
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

CREATE OR REPLACE FUNCTION @extschema@.resolve_discrepancy(p_id bigint, p_note text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_row number_wallet.discrepancies;
  v_replayed boolean := true;
BEGIN
  PERFORM number_wallet.require_service('resolve_discrepancy');
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

CREATE OR REPLACE FUNCTION @extschema@.wallet_reconcile()
RETURNS TABLE (kind text, wallet_id uuid, user_id uuid, number_id uuid, currency text,
               expected numeric, actual numeric, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM number_wallet.require_service('wallet_reconcile');
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
    FROM entries e WHERE e.orphan;
END
$$;

-- grant_end_user: also the policies' claimed_user().
CREATE OR REPLACE FUNCTION @extschema@.grant_end_user(p_role regrole)
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
                 'number_wallet.release_number(uuid, uuid), number_wallet.row_visible(uuid), '
                 'number_wallet.claimed_user() TO %s', p_role);
END
$$;

-- Privileges the extension does not give are taken back after every GRANT.
-- A blanket GRANT ALL ON ALL SEQUENCES gives UPDATE on the ledger's identity
-- sequence, and setval() then moves it: backwards, every later entry fails on
-- the primary key; and ids would no longer follow the order of application.
-- GRANT ALL ON ALL TABLES also gives TRIGGER, with which a grantee attaches
-- its own trigger function to a table, to be run by the SECURITY DEFINER
-- functions as the owner. Rather than harden each such path, this event
-- trigger (ddl_command_end on GRANT, and after CREATE/ALTER EXTENSION, which
-- may add objects under someone's ALTER DEFAULT PRIVILEGES) revokes, on every
-- object of the extension, each privilege held by a role other than the
-- owner, number_wallet_user and number_wallet_service, unless the role is a
-- member of one of those two and that role holds the same privilege itself
-- (what grant_end_user grants a NOINHERIT end user). A sequence is moved by
-- nothing but the owner's functions. SECURITY DEFINER: a REVOKE must come
-- from the owner, who granted.
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
REVOKE ALL ON FUNCTION @extschema@.keep_privileges() FROM PUBLIC;
CREATE EVENT TRIGGER number_wallet_keep_privileges ON ddl_command_end
  WHEN TAG IN ('GRANT', 'CREATE EXTENSION', 'ALTER EXTENSION')
  EXECUTE FUNCTION @extschema@.keep_privileges();
ALTER EVENT TRIGGER number_wallet_keep_privileges ENABLE ALWAYS;
COMMENT ON FUNCTION @extschema@.keep_privileges() IS
  'Event trigger: takes back privileges on the extension''s objects that the extension does not give.';

-- DROP EXTENSION number_wallet drops the ledger with every row: refused while
-- it holds rows unless CASCADE says so (drop_guard.cpp).
CREATE FUNCTION @extschema@.drop_guard() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'nw_drop_guard' LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.drop_guard() FROM PUBLIC;
CREATE EVENT TRIGGER number_wallet_drop_guard ON ddl_command_start
  WHEN TAG IN ('DROP EXTENSION')
  EXECUTE FUNCTION @extschema@.drop_guard();
ALTER EVENT TRIGGER number_wallet_drop_guard ENABLE ALWAYS;
COMMENT ON FUNCTION @extschema@.drop_guard() IS
  'Event trigger: a plain DROP EXTENSION number_wallet is refused while the ledger holds rows (CASCADE forces it).';

-- Documented in the catalog like every object since 1.1.
COMMENT ON FUNCTION @extschema@.row_visible(uuid) IS
  'Whether the caller may see this user''s rows (the policies use claimed_user() since 1.2).';
