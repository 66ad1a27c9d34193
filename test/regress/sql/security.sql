-- security: who may call what, row-level security, privileges, search_path
-- pinning, the append-only ledger and the C++/PostgreSQL boundary guard
-- (docs/sql-api.md "Who may call what").
--
-- Self-contained: it uses its own users (5ec00000-…), phone numbers (+6499990…)
-- and roles (regress_sec_*), so it runs alone or after the other suites in one
-- database, and again on the same cluster (roles are cluster-wide: they are
-- dropped first and at the end; number_wallet_user/_service are never dropped).
--
-- Errors are shown by SQLSTATE only (VERBOSITY sqlstate): messages name random
-- number ids. Where the message is stable and matters, \echo :LAST_ERROR_MESSAGE
-- prints it too.
\set VERBOSITY sqlstate
\pset null '<null>'

-- ---------------------------------------------------------------------------
-- Clean slate: leftovers of an earlier run on this cluster.
-- ---------------------------------------------------------------------------
SET client_min_messages = warning;
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['regress_sec_alice', 'regress_sec_authenticated', 'regress_sec_svc',
                           'regress_sec_nobody', 'regress_sec_plain_member'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('DROP OWNED BY %I', r);
      EXECUTE format('DROP ROLE %I', r);
    END IF;
  END LOOP;
END
$$;
DROP SCHEMA IF EXISTS regress_sec_evil CASCADE;
DROP SCHEMA IF EXISTS regress_sec_util CASCADE;
RESET client_min_messages;

CREATE ROLE regress_sec_alice NOLOGIN;              -- an end user (inherits)
GRANT number_wallet_user TO regress_sec_alice;
CREATE ROLE regress_sec_authenticated NOLOGIN NOINHERIT;  -- as Supabase's authenticated
CREATE ROLE regress_sec_svc NOLOGIN;                -- a trusted back end
GRANT number_wallet_service TO regress_sec_svc;
CREATE ROLE regress_sec_nobody NOLOGIN;             -- PUBLIC: no grants at all

-- try(sql): 'ok' or the SQLSTATE the statement raised (runs as the caller).
CREATE SCHEMA regress_sec_util;
GRANT USAGE ON SCHEMA regress_sec_util TO PUBLIC;
CREATE FUNCTION regress_sec_util.try(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE p_sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END
$$;
-- failure(sql, id): the SQLSTATE, message, detail and hint the statement raised,
-- with the given id masked, so "not yours" and "missing" can be compared whole.
CREATE FUNCTION regress_sec_util.failure(p_sql text, p_id uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_state text; v_message text; v_detail text; v_hint text;
BEGIN
  EXECUTE p_sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                          v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
  RETURN replace(concat_ws(' | ', v_state, v_message, nullif(v_detail, ''), nullif(v_hint, '')),
                 p_id::text, '<id>');
END
$$;
-- A call of every function of the schema with typed NULL arguments.
CREATE FUNCTION regress_sec_util.calls()
RETURNS TABLE (fn text, stmt text) LANGUAGE sql STABLE AS $$
  SELECT p.oid::regprocedure::text,
         format('SELECT %I.%I(%s)', n.nspname, p.proname,
                coalesce((SELECT string_agg(format('NULL::%s', a.t::regtype), ', ' ORDER BY a.ord)
                            FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, ord)), ''))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'number_wallet' AND p.prorettype <> 'trigger'::regtype
$$;

\set alice '5ec00000-0000-0000-0000-0000000000a1'
\set bob   '5ec00000-0000-0000-0000-0000000000b2'
\set carol '5ec00000-0000-0000-0000-0000000000c3'
\set nobody_number '5ec00000-0000-0000-0000-00000000dead'

-- ---------------------------------------------------------------------------
-- Data, written by the superuser (who counts as number_wallet_service).
-- ---------------------------------------------------------------------------
SELECT number_wallet.wallet_credit(:'alice', 100) - 'wallet_id' - 'transaction_id' AS credit;
SELECT number_wallet.wallet_credit(:'bob', 100) - 'wallet_id' - 'transaction_id' AS credit;
SELECT number_wallet.wallet_credit(:'carol', 50) - 'wallet_id' - 'transaction_id' AS credit;
SELECT number_wallet.confirm_purchase((number_wallet.purchase_number(:'alice', '+64999900011', 5)->>'number_id')::uuid,
                                      'PNsec0000000000000000000000000a11')->>'status' AS alice_1;
SELECT number_wallet.purchase_number(:'alice', '+64999900012', 6)->>'status' AS alice_2;
SELECT number_wallet.confirm_purchase((number_wallet.purchase_number(:'bob', '+64999900021', 7)->>'number_id')::uuid,
                                      'PNsec0000000000000000000000000b21')->>'status' AS bob_1;
SELECT number_wallet.confirm_purchase((number_wallet.purchase_number(:'bob', '+64999900022', 8)->>'number_id')::uuid,
                                      'PNsec0000000000000000000000000b22')->>'status' AS bob_2;
SELECT number_wallet.confirm_purchase((number_wallet.purchase_number(:'carol', '+64999900031', 9)->>'number_id')::uuid,
                                      'PNsec0000000000000000000000000c31')->>'status' AS carol_1;
SELECT id AS alice_num1 FROM number_wallet.business_numbers WHERE phone_number = '+64999900011' \gset
SELECT id AS alice_num2 FROM number_wallet.business_numbers WHERE phone_number = '+64999900012' \gset
SELECT id AS bob_num1 FROM number_wallet.business_numbers WHERE phone_number = '+64999900021' \gset
SELECT id AS bob_num2 FROM number_wallet.business_numbers WHERE phone_number = '+64999900022' \gset
SELECT id AS carol_num1 FROM number_wallet.business_numbers WHERE phone_number = '+64999900031' \gset

-- ---------------------------------------------------------------------------
-- 1. An end user (SET ROLE inside a superuser session): own rows only.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_alice;
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000a1","role":"authenticated"}';
SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS session_user_is_superuser;
SELECT user_id, balance_usd, balance_inr FROM number_wallet.wallets ORDER BY user_id;
SELECT user_id, phone_number, status FROM number_wallet.business_numbers ORDER BY phone_number;
SELECT user_id, type, kind, amount, currency, balance_after, description FROM number_wallet.transactions ORDER BY id;
-- Someone else's rows are invisible even when asked for by id.
SELECT count(*) AS bobs_rows FROM number_wallet.business_numbers WHERE id = :'bob_num1';
SELECT count(*) AS bobs_rows FROM number_wallet.wallets WHERE user_id = :'bob';
SELECT count(*) AS bobs_rows FROM number_wallet.transactions WHERE user_id = :'bob';
-- The discrepancies table and the monitoring views are the service's: 42501.
SELECT count(*) FROM number_wallet.discrepancies;
SELECT count(*) FROM number_wallet.numbers_needing_intervention;
SELECT count(*) FROM number_wallet.daily_transaction_summary;
SELECT count(*) FROM number_wallet.purchase_success_rate;
-- refund_quote: own number answers; someone else's is NW003, exactly like a missing one.
SELECT number_wallet.refund_quote(:'alice_num1', statement_timestamp()) AS own_quote;
SELECT number_wallet.refund_quote(:'bob_num1');
SELECT number_wallet.refund_quote(:'nobody_number');
-- release_number: someone else's number is NW003, whether named with their
-- user id or the caller's own, exactly like a missing number.
SELECT number_wallet.release_number(:'bob', :'bob_num1');
SELECT number_wallet.release_number(:'alice', :'bob_num1');
SELECT number_wallet.release_number(:'alice', :'nobody_number');
SELECT number_wallet.release_number(:'bob', :'nobody_number');
-- The whole error (state, message, detail, hint) is that of a missing number.
SELECT regress_sec_util.failure(format('SELECT number_wallet.release_number(%L, %L)', :'alice', :'bob_num1'), :'bob_num1')
         AS not_yours,
       regress_sec_util.failure(format('SELECT number_wallet.release_number(%L, %L)', :'alice', :'nobody_number'),
                                :'nobody_number') AS missing;
SELECT regress_sec_util.failure(format('SELECT number_wallet.refund_quote(%L)', :'bob_num1'), :'bob_num1') AS not_yours,
       regress_sec_util.failure(format('SELECT number_wallet.refund_quote(%L)', :'nobody_number'), :'nobody_number')
         AS missing;
-- No writes but through the functions.
UPDATE number_wallet.wallets SET balance_usd = 1000000;
INSERT INTO number_wallet.transactions (wallet_id, user_id, type, kind, amount, currency, balance_after, description)
  SELECT id, user_id, 'CREDIT', 'topup', 1, 'USD', balance_usd + 1, 'free money' FROM number_wallet.wallets;
UPDATE number_wallet.business_numbers SET user_id = :'alice' WHERE id = :'bob_num1';
DELETE FROM number_wallet.business_numbers;
-- The service functions, called directly with real arguments: 42501.
SELECT number_wallet.wallet_credit(:'alice', 10);
SELECT number_wallet.update_wallet_balance_atomic((SELECT id FROM number_wallet.wallets), 10, 'USD');
SELECT number_wallet.purchase_number(:'alice', '+64999900019', 1);
SELECT number_wallet.confirm_purchase(:'alice_num2', 'PNsec0000000000000000000000000a12');
SELECT number_wallet.fail_purchase(:'alice_num2', 'changed my mind');
SELECT number_wallet.mark_provider_released(:'alice_num1');
SELECT number_wallet.renew_due_numbers();
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+64999900019', NULL, NULL, 'x');
SELECT number_wallet.resolve_discrepancy(1, 'x');
SELECT * FROM number_wallet.wallet_reconcile();
SELECT number_wallet.grant_end_user('regress_sec_nobody');
SELECT number_wallet._boundary_selftest('runtime_error');
-- Every function of the schema, called with NULLs: only the user functions get
-- past the privilege check (and then refuse the NULLs with 22023).
SELECT fn, regress_sec_util.try(stmt) AS sqlstate FROM regress_sec_util.calls()
 WHERE regress_sec_util.try(stmt) <> '42501' ORDER BY fn;
-- Own number: released, with the refund.
SELECT number_wallet.release_number(:'alice', :'alice_num1') - 'number_id' AS own_release;
RESET ROLE;
SELECT phone_number, status FROM number_wallet.business_numbers
 WHERE user_id IN (:'alice', :'bob') ORDER BY phone_number;

-- The same end user with the session's own identity (SET SESSION AUTHORIZATION).
SET SESSION AUTHORIZATION regress_sec_alice;
SELECT current_user, session_user;
SELECT user_id, phone_number, status FROM number_wallet.business_numbers ORDER BY phone_number;
SELECT number_wallet.release_number(:'bob', :'bob_num1');
SELECT number_wallet.purchase_number(:'alice', '+64999900019', 1);
RESET SESSION AUTHORIZATION;

-- A SECURITY DEFINER wrapper owned by the superuser does not lend its rights:
-- the caller is the role outside the SECURITY DEFINER frame.
CREATE FUNCTION regress_sec_util.release_for(p_user uuid, p_number uuid) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT number_wallet.release_number(p_user, p_number)
$$;
SET ROLE regress_sec_alice;
SELECT regress_sec_util.release_for(:'bob', :'bob_num1');
RESET ROLE;

-- A PostgREST-style transaction-local claim ends with the transaction.
SET ROLE regress_sec_alice;
RESET request.jwt.claims;
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":"5ec00000-0000-0000-0000-0000000000a1"}', true) IS NOT NULL AS claims_set;
SELECT user_id FROM number_wallet.wallets;
COMMIT;
SELECT count(*) AS rows_after_commit FROM number_wallet.wallets;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 2. Claims that gain nothing: no rows, NW003 on release, 42501 on service calls.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_alice;
-- role: service_role without a subject
SET request.jwt.claims = '{"role":"service_role"}';
SELECT count(*) AS wallets, (SELECT count(*) FROM number_wallet.business_numbers) AS numbers,
       (SELECT count(*) FROM number_wallet.transactions) AS entries FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'bob', :'bob_num1');
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SELECT number_wallet.refund_quote(:'bob_num1');
SELECT number_wallet.purchase_number(:'alice', '+64999900019', 1);
SELECT count(*) FROM number_wallet.numbers_needing_intervention;
-- role: service_role with a subject: that subject's rows, nothing more
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000a1","role":"service_role"}';
SELECT user_id FROM number_wallet.wallets ORDER BY user_id;
SELECT DISTINCT user_id FROM number_wallet.business_numbers ORDER BY user_id;
SELECT number_wallet.release_number(:'bob', :'bob_num1');
SELECT number_wallet.wallet_credit(:'alice', 10);
-- a missing sub
SET request.jwt.claims = '{"role":"authenticated"}';
SELECT count(*) AS wallets, (SELECT count(*) FROM number_wallet.business_numbers) AS numbers,
       (SELECT count(*) FROM number_wallet.transactions) AS entries FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SELECT number_wallet.refund_quote(:'alice_num2');
-- a non-uuid sub (and a uuid that is not a string, an empty one, a nested one)
SET request.jwt.claims = '{"sub":"alice"}';
SELECT count(*) AS wallets, (SELECT count(*) FROM number_wallet.business_numbers) AS numbers,
       (SELECT count(*) FROM number_wallet.transactions) AS entries FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SET request.jwt.claims = '{"sub":""}';
SELECT count(*) AS wallets FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SET request.jwt.claims = '{"sub":{"id":"5ec00000-0000-0000-0000-0000000000a1"}}';
SELECT count(*) AS wallets FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000a1x"}';
SELECT count(*) AS wallets FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
-- not JSON at all, and no claims
SET request.jwt.claims = 'sub=5ec00000-0000-0000-0000-0000000000a1';
SELECT count(*) AS wallets FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
RESET request.jwt.claims;
SELECT count(*) AS wallets FROM number_wallet.wallets;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
RESET ROLE;
-- Nothing changed: alice's second number is still pending, bob's first active.
SELECT phone_number, status FROM number_wallet.business_numbers
 WHERE id IN (:'alice_num2', :'bob_num1') ORDER BY phone_number;

-- A role with EXECUTE granted by mistake is still no end user without the
-- membership (the C check), and an end user granted a service function by
-- mistake still cannot use it. The event trigger that takes such grants back
-- (see defence.sql) is off here, to show the checks behind it.
ALTER EVENT TRIGGER number_wallet_keep_privileges DISABLE;
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000a1"}';
CREATE ROLE regress_sec_plain_member NOLOGIN;
GRANT USAGE ON SCHEMA number_wallet TO regress_sec_plain_member;
GRANT SELECT ON number_wallet.wallets TO regress_sec_plain_member;
GRANT EXECUTE ON FUNCTION number_wallet.release_number(uuid, uuid), number_wallet._row_visible(uuid)
  TO regress_sec_plain_member;
SET ROLE regress_sec_plain_member;
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SELECT count(*) AS wallets FROM number_wallet.wallets;
RESET ROLE;
GRANT EXECUTE ON FUNCTION number_wallet.purchase_number(uuid, text, numeric, text, text, text) TO regress_sec_alice;
SET ROLE regress_sec_alice;
SELECT number_wallet.purchase_number(:'alice', '+64999900019', 1);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION number_wallet.purchase_number(uuid, text, numeric, text, text, text) FROM regress_sec_alice;
ALTER EVENT TRIGGER number_wallet_keep_privileges ENABLE ALWAYS;

-- ---------------------------------------------------------------------------
-- 3. PUBLIC: a role with no grants can call nothing and read nothing.
-- ---------------------------------------------------------------------------
SELECT has_schema_privilege('regress_sec_nobody', 'number_wallet', 'USAGE') AS usage;
SELECT p.oid::regprocedure AS executable_by_public FROM pg_proc p
 WHERE p.pronamespace = 'number_wallet'::regnamespace AND has_function_privilege('regress_sec_nobody', p.oid, 'EXECUTE');
SELECT c.oid::regclass AS readable_by_public FROM pg_class c
 WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
   AND (has_table_privilege('regress_sec_nobody', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
        OR (c.relkind = 'S' AND has_sequence_privilege('regress_sec_nobody', c.oid, 'USAGE, SELECT, UPDATE')));
SET ROLE regress_sec_nobody;
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000a1"}';
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SELECT number_wallet.refund_quote(:'alice_num2');
SELECT number_wallet.purchase_number(:'alice', '+64999900019', 1);
SELECT count(*) FROM number_wallet.wallets;
SELECT count(*) FROM number_wallet.transactions;
SELECT count(*) FROM number_wallet.business_numbers;
SELECT count(*) FROM number_wallet.discrepancies;
SELECT count(*) FROM number_wallet.numbers_needing_intervention;
SELECT fn FROM regress_sec_util.calls() WHERE regress_sec_util.try(stmt) <> '42501' ORDER BY fn;
RESET ROLE;
-- Even with USAGE on the schema, EXECUTE and SELECT are refused.
GRANT USAGE ON SCHEMA number_wallet TO regress_sec_nobody;
SET ROLE regress_sec_nobody;
SELECT fn FROM regress_sec_util.calls() WHERE regress_sec_util.try(stmt) <> '42501' ORDER BY fn;
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'v')
   AND regress_sec_util.try(format('SELECT 1 FROM number_wallet.%I LIMIT 1', c.relname)) <> '42501';
SELECT number_wallet.release_number(:'alice', :'alice_num2');
SELECT count(*) FROM number_wallet.wallets;
RESET ROLE;
REVOKE USAGE ON SCHEMA number_wallet FROM regress_sec_nobody;

-- ---------------------------------------------------------------------------
-- 4. A NOINHERIT role (Supabase's authenticated) becomes an end user only
--    through grant_end_user().
-- ---------------------------------------------------------------------------
GRANT number_wallet_user TO regress_sec_authenticated;
SET ROLE regress_sec_authenticated;
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000c3"}';
SELECT count(*) FROM number_wallet.wallets;           -- membership alone grants nothing
SELECT number_wallet.release_number(:'carol', :'carol_num1');
RESET ROLE;
SELECT number_wallet.grant_end_user('regress_sec_authenticated');
SELECT p.oid::regprocedure AS executable_by_authenticated FROM pg_proc p
 WHERE p.pronamespace = 'number_wallet'::regnamespace
   AND has_function_privilege('regress_sec_authenticated', p.oid, 'EXECUTE') ORDER BY p.oid::regprocedure::text;
SELECT c.oid::regclass AS selectable_by_authenticated FROM pg_class c
 WHERE c.relnamespace = 'number_wallet'::regnamespace
   AND has_table_privilege('regress_sec_authenticated', c.oid, 'SELECT') ORDER BY c.relname;
SELECT c.oid::regclass AS writable_by_authenticated FROM pg_class c
 WHERE c.relnamespace = 'number_wallet'::regnamespace
   AND has_table_privilege('regress_sec_authenticated', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') ORDER BY c.relname;
SET ROLE regress_sec_authenticated;
SELECT user_id, balance_usd FROM number_wallet.wallets ORDER BY user_id;
SELECT user_id, phone_number, status FROM number_wallet.business_numbers ORDER BY phone_number;
SELECT user_id, type, kind, amount, balance_after FROM number_wallet.transactions ORDER BY id;
SELECT number_wallet.refund_quote(:'carol_num1', statement_timestamp()) AS own_quote;
SELECT number_wallet.refund_quote(:'bob_num1');
SELECT number_wallet.release_number(:'carol', :'bob_num1');
SELECT number_wallet.release_number(:'bob', :'bob_num1');
SELECT number_wallet.purchase_number(:'carol', '+64999900039', 1);
SELECT count(*) FROM number_wallet.numbers_needing_intervention;
UPDATE number_wallet.wallets SET balance_usd = 1000000;
SELECT number_wallet.release_number(:'carol', :'carol_num1') - 'number_id' AS own_release;
SELECT user_id, balance_usd FROM number_wallet.wallets ORDER BY user_id;
RESET ROLE;
-- Idempotent: granting again changes nothing and does not fail.
SELECT number_wallet.grant_end_user('regress_sec_authenticated');

-- ---------------------------------------------------------------------------
-- 5. A member of number_wallet_service acts for any user (claims ignored).
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_svc;
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000a1"}';
SELECT user_id, balance_usd FROM number_wallet.wallets
 WHERE user_id IN (:'alice', :'bob', :'carol') ORDER BY user_id;
SELECT user_id, phone_number, status FROM number_wallet.business_numbers
 WHERE user_id IN (:'alice', :'bob', :'carol') ORDER BY phone_number;
SELECT number_wallet.wallet_credit(:'bob', 20) - 'wallet_id' - 'transaction_id' AS credit;
SELECT number_wallet.purchase_number(:'bob', '+64999900023', 4) - 'number_id' - 'transaction_id' AS purchase;
SELECT number_wallet.confirm_purchase(id, 'PNsec0000000000000000000000000b23') - 'number_id' - 'purchase_date' - 'paid_until' AS confirm
  FROM number_wallet.business_numbers WHERE phone_number = '+64999900023' AND status = 'pending';
SELECT number_wallet.fail_purchase(:'alice_num2', 'provider refused') - 'number_id' AS fail;
SELECT number_wallet.refund_quote(:'bob_num2', statement_timestamp()) AS quote;
SELECT number_wallet.release_number(:'bob', :'bob_num2') - 'number_id' AS release;
SELECT number_wallet.mark_provider_released(:'bob_num2') - 'number_id' - 'provider_released_at' AS mark;
SELECT number_wallet.release_number(:'alice', :'bob_num1');   -- NW003: not alice's number
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+64999900029', 'PNsec0000000000000000000000000b29',
                                        NULL, 'security suite') IS NOT NULL AS recorded;
SELECT reason, phone_number, status FROM number_wallet.numbers_needing_intervention
 WHERE phone_number LIKE '+6499990%' ORDER BY reason, phone_number;
SELECT number_wallet.resolve_discrepancy(id, 'security suite') - 'id' - 'resolved_at' - 'audit_id' AS resolve
  FROM number_wallet.discrepancies WHERE phone_number = '+64999900029' AND resolved_at IS NULL;
SELECT count(*) >= 0 AS readable FROM number_wallet.daily_transaction_summary;
SELECT count(*) >= 0 AS readable FROM number_wallet.purchase_success_rate;
SELECT count(*) AS reconcile_findings FROM number_wallet.wallet_reconcile()
 WHERE user_id IN (:'alice', :'bob', :'carol');
-- The service writes only through the functions too.
UPDATE number_wallet.wallets SET balance_usd = 1000000 WHERE user_id = :'bob';
DELETE FROM number_wallet.transactions WHERE user_id = :'bob';
INSERT INTO number_wallet.discrepancies (kind) VALUES ('forged');
-- Owner-only and superuser-only functions stay closed.
SELECT number_wallet.grant_end_user('regress_sec_nobody');
SELECT number_wallet._boundary_selftest('runtime_error');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 6. Every SECURITY DEFINER function pins search_path (expect no offenders),
--    to a path no caller can write to, with pg_temp last.
-- ---------------------------------------------------------------------------
SELECT p.oid::regprocedure AS unpinned_security_definer FROM pg_proc p
 WHERE p.pronamespace = 'number_wallet'::regnamespace AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c(setting) WHERE c.setting LIKE 'search_path=%');
SELECT p.oid::regprocedure AS weak_search_path, c.setting FROM pg_proc p, unnest(p.proconfig) AS c(setting)
 WHERE p.pronamespace = 'number_wallet'::regnamespace AND p.prosecdef AND c.setting LIKE 'search_path=%'
   AND (c.setting ~ '(public|\$user)' OR c.setting !~ 'pg_temp"?$');
SELECT count(*) > 0 AS has_security_definer_functions FROM pg_proc p
 WHERE p.pronamespace = 'number_wallet'::regnamespace AND p.prosecdef;

-- ---------------------------------------------------------------------------
-- 7. search_path hijack: a user schema with a malicious "=" and look-alike
--    tables placed first (ahead of pg_catalog), plus temporary look-alikes.
-- ---------------------------------------------------------------------------
CREATE SCHEMA regress_sec_evil;
GRANT USAGE, CREATE ON SCHEMA regress_sec_evil TO PUBLIC;
CREATE TABLE regress_sec_evil.calls (op text);
GRANT ALL ON regress_sec_evil.calls TO PUBLIC;
CREATE FUNCTION regress_sec_evil.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE sql VOLATILE AS $$
  INSERT INTO regress_sec_evil.calls VALUES ('uuid =') RETURNING true
$$;
CREATE FUNCTION regress_sec_evil.text_eq(text, text) RETURNS boolean LANGUAGE sql VOLATILE AS $$
  INSERT INTO regress_sec_evil.calls VALUES ('text =') RETURNING true
$$;
CREATE OPERATOR regress_sec_evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = regress_sec_evil.uuid_eq);
CREATE OPERATOR regress_sec_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_sec_evil.text_eq);
CREATE TABLE regress_sec_evil.wallets (LIKE number_wallet.wallets INCLUDING DEFAULTS);
CREATE TABLE regress_sec_evil.business_numbers (LIKE number_wallet.business_numbers);
CREATE TABLE regress_sec_evil.transactions (LIKE number_wallet.transactions);
INSERT INTO regress_sec_evil.wallets (id, user_id, balance_usd, balance_inr, is_active, created_at, updated_at)
  SELECT id, :'alice', 1000000, 1000000, true, created_at, updated_at FROM number_wallet.wallets;
INSERT INTO regress_sec_evil.business_numbers SELECT * FROM number_wallet.business_numbers;
UPDATE regress_sec_evil.business_numbers SET user_id = :'alice';
GRANT ALL ON ALL TABLES IN SCHEMA regress_sec_evil TO PUBLIC;
CREATE TEMP TABLE wallets AS SELECT * FROM regress_sec_evil.wallets;
CREATE TEMP TABLE business_numbers AS SELECT * FROM regress_sec_evil.business_numbers;
CREATE TEMP TABLE transactions AS SELECT * FROM regress_sec_evil.transactions;
GRANT ALL ON wallets, business_numbers, transactions TO PUBLIC;
SELECT md5(string_agg(w::text, ',' ORDER BY id)) AS money_before FROM number_wallet.wallets w \gset

-- An end user with the hijacking path: still only NW003 for bob's number.
SET ROLE regress_sec_alice;
SET request.jwt.claims = '{"sub":"5ec00000-0000-0000-0000-0000000000a1"}';
SET search_path = pg_temp, regress_sec_evil, pg_catalog, number_wallet, public;
SELECT number_wallet.release_number(:'alice', :'bob_num1');
SELECT number_wallet.release_number(:'bob', :'bob_num1');
SELECT number_wallet.refund_quote(:'bob_num1');
SELECT number_wallet.purchase_number(:'alice', '+64999900019', 1);
SELECT count(*) AS visible_wallets FROM number_wallet.wallets;
RESET search_path;
RESET ROLE;
SELECT md5(string_agg(w::text, ',' ORDER BY id)) = :'money_before' AS money_unchanged FROM number_wallet.wallets w;
-- A service caller with the hijacking path: the real tables get the rows.
SET ROLE regress_sec_svc;
SET search_path = pg_temp, regress_sec_evil, pg_catalog, number_wallet, public;
SELECT number_wallet.wallet_credit(:'alice', 3) - 'wallet_id' - 'transaction_id' AS credit;
SELECT number_wallet.purchase_number(:'alice', '+64999900013', 2) - 'number_id' - 'transaction_id' AS purchase;
SELECT number_wallet.release_number(:'alice', :'bob_num1');
SELECT number_wallet.refund_quote(:'nobody_number');
RESET search_path;
RESET ROLE;
-- The superuser with the hijacking path.
SET search_path = pg_temp, regress_sec_evil, pg_catalog, number_wallet, public;
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+64999900018', NULL, NULL, 'hijack') IS NOT NULL AS recorded;
SELECT number_wallet.fail_purchase(id, 'hijack') - 'number_id' AS fail
  FROM number_wallet.business_numbers WHERE phone_number OPERATOR(pg_catalog.=) '+64999900013'
   AND status OPERATOR(pg_catalog.=) 'pending';
RESET search_path;
-- The evil operators were never called; the look-alikes are untouched; the
-- real tables hold the new rows and still reconcile.
SELECT count(*) AS evil_calls FROM regress_sec_evil.calls;
SELECT (SELECT count(*) FROM regress_sec_evil.transactions) AS evil_entries,
       (SELECT count(*) FROM pg_temp.transactions) AS temp_entries,
       (SELECT count(*) FROM regress_sec_evil.wallets WHERE balance_usd <> 1000000) AS evil_wallets_changed;
SELECT phone_number, status FROM number_wallet.business_numbers WHERE user_id = :'alice' ORDER BY phone_number;
SELECT type, kind, amount, balance_after, description FROM number_wallet.transactions
 WHERE user_id = :'alice' ORDER BY id;
SELECT count(*) AS open_hijack_discrepancies FROM number_wallet.discrepancies
 WHERE phone_number = '+64999900018' AND resolved_at IS NULL;
SELECT count(*) AS reconcile_findings FROM number_wallet.wallet_reconcile()
 WHERE user_id IN (:'alice', :'bob', :'carol');
-- Control: outside the pinned functions the traps do work.
SET search_path = pg_temp, regress_sec_evil, pg_catalog, number_wallet, public;
SELECT :'alice'::uuid = :'bob'::uuid AS evil_equals_fires,
       (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) 'wallets'::regclass)
         OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() AS temp_wallets_shadow;
RESET search_path;
SELECT op, count(*) AS evil_calls FROM regress_sec_evil.calls GROUP BY op;
DROP TABLE pg_temp.wallets, pg_temp.business_numbers, pg_temp.transactions;

-- ---------------------------------------------------------------------------
-- 8. The ledger is append-only, even for the superuser.
-- ---------------------------------------------------------------------------
SELECT count(*) AS entries_before FROM number_wallet.transactions \gset
UPDATE number_wallet.transactions SET amount = amount WHERE user_id = :'alice';
\echo :LAST_ERROR_MESSAGE
UPDATE number_wallet.transactions SET description = 'edited';
\echo :LAST_ERROR_MESSAGE
DELETE FROM number_wallet.transactions WHERE user_id = :'bob';
\echo :LAST_ERROR_MESSAGE
DELETE FROM number_wallet.transactions;
\echo :LAST_ERROR_MESSAGE
TRUNCATE number_wallet.transactions;
\echo :LAST_ERROR_MESSAGE
SELECT count(*) = :entries_before AS ledger_unchanged FROM number_wallet.transactions;

-- ---------------------------------------------------------------------------
-- 9. The C++/PostgreSQL boundary guard: each kind of C++ exception is a clean
--    ERROR that aborts the transaction; the session carries on.
-- ---------------------------------------------------------------------------
SELECT number_wallet._boundary_selftest('none');
BEGIN;
SELECT number_wallet._boundary_selftest('runtime_error');
\echo :LAST_ERROR_MESSAGE
SELECT 1 AS after_error;
\echo :LAST_ERROR_MESSAGE
ROLLBACK;
SELECT 1 AS session_alive;
BEGIN;
SELECT number_wallet._boundary_selftest('bad_alloc');
\echo :LAST_ERROR_MESSAGE
SELECT 1 AS after_error;
\echo :LAST_ERROR_MESSAGE
ROLLBACK;
SELECT 1 AS session_alive;
BEGIN;
SELECT number_wallet._boundary_selftest('non_std');
\echo :LAST_ERROR_MESSAGE
SELECT 1 AS after_error;
\echo :LAST_ERROR_MESSAGE
ROLLBACK;
SELECT 1 AS session_alive;
BEGIN;
SELECT number_wallet._boundary_selftest('length_error');
\echo :LAST_ERROR_MESSAGE
SELECT 1 AS after_error;
\echo :LAST_ERROR_MESSAGE
ROLLBACK;
SELECT 1 AS session_alive;
-- A guarded error inside a subtransaction leaves the outer transaction usable.
BEGIN;
SAVEPOINT s;
SELECT number_wallet._boundary_selftest('runtime_error');
ROLLBACK TO SAVEPOINT s;
SELECT number_wallet.wallet_credit(:'carol', 1) - 'wallet_id' - 'transaction_id' AS credit_after_guarded_error;
COMMIT;
SELECT count(*) AS reconcile_findings FROM number_wallet.wallet_reconcile()
 WHERE user_id IN (:'alice', :'bob', :'carol');

-- ---------------------------------------------------------------------------
-- Clean up the cluster-wide roles (the built-in roles stay).
-- ---------------------------------------------------------------------------
RESET request.jwt.claims;
SET client_min_messages = warning;
DROP SCHEMA regress_sec_evil CASCADE;
DROP SCHEMA regress_sec_util CASCADE;
DROP OWNED BY regress_sec_alice, regress_sec_authenticated, regress_sec_svc, regress_sec_nobody,
  regress_sec_plain_member;
DROP ROLE regress_sec_alice, regress_sec_authenticated, regress_sec_svc, regress_sec_nobody,
  regress_sec_plain_member;
RESET client_min_messages;
SELECT rolname FROM pg_roles WHERE rolname IN ('number_wallet_user', 'number_wallet_service') ORDER BY 1;
