-- defence: docs/sql-api.md "Defence in depth" tested with exactly Supabase's recipe
-- for exposing a custom schema, row-level security an index can serve
-- (_claimed_user() in an initplan), and the smaller rules of version 1.2:
-- refund_quote reads in its caller's snapshot (STABLE), the confirm's NW004
-- covers only the sid's unique index, and DROP EXTENSION keeps a ledger that
-- holds rows unless CASCADE says otherwise.
--
-- Self-contained: its own users (0de00000-…), phone numbers (+6499980…) and
-- Supabase's role names (anon, authenticated, service_role), created here and
-- dropped at the end. Runs last: its final part drops the extension (rolled back).
\set VERBOSITY sqlstate
\pset null '<null>'

SET client_min_messages = warning;
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('DROP OWNED BY %I', r);
      EXECUTE format('DROP ROLE %I', r);
    END IF;
  END LOOP;
END
$$;
DROP SCHEMA IF EXISTS regress_def CASCADE;
RESET client_min_messages;

-- Supabase's roles: the API's anonymous and signed-in roles (NOINHERIT), and
-- its service role, which bypasses row-level security.
CREATE ROLE anon NOLOGIN NOINHERIT;
CREATE ROLE authenticated NOLOGIN NOINHERIT;
CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
SELECT number_wallet.grant_end_user('authenticated');

CREATE SCHEMA regress_def;
GRANT USAGE ON SCHEMA regress_def TO PUBLIC;
-- state(sql): 'ok (N rows)' or the SQLSTATE and message the statement raised.
CREATE FUNCTION regress_def.state(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_rows bigint; v_state text; v_message text;
BEGIN
  EXECUTE p_sql;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN format('ok (%s rows)', v_rows);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
  RETURN v_state || ': ' || regexp_replace(v_message, '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g');
END
$$;
-- Every privilege a role holds itself on the extension's schema and objects.
CREATE FUNCTION regress_def.held(p_role text) RETURNS TABLE (object text, privileges text)
LANGUAGE sql STABLE AS $$
  WITH objects AS (
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' ELSE 'table ' END || c.relname AS object,
           coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's'::"char" ELSE 'r'::"char" END,
                                         c.relowner)) AS acl
      FROM pg_class c WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'v', 'S')
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text, coalesce(p.proacl, acldefault('f'::"char", p.proowner))
      FROM pg_proc p WHERE p.pronamespace = 'number_wallet'::regnamespace
    UNION ALL
    SELECT 'schema number_wallet', coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))
      FROM pg_namespace n WHERE n.nspname = 'number_wallet'
  )
  SELECT o.object, string_agg(a.privilege_type, ',' ORDER BY a.privilege_type)
    FROM objects o CROSS JOIN LATERAL aclexplode(o.acl) a
   WHERE a.grantee = p_role::regrole
   GROUP BY o.object ORDER BY o.object COLLATE "C"
$$;
-- Every way to write, move a sequence or record a finding, one statement each.
CREATE FUNCTION regress_def.attacks(p_bob_number uuid) RETURNS TABLE (attack text, stmt text) LANGUAGE sql STABLE AS $$
  VALUES
  ('insert wallet', $q$INSERT INTO number_wallet.wallets (user_id, balance_usd)
                       VALUES ('0de00000-0000-0000-0000-0000000000ee', 1000000)$q$),
  ('insert number', $q$INSERT INTO number_wallet.business_numbers (user_id, phone_number, monthly_cost, currency)
                       VALUES ('0de00000-0000-0000-0000-0000000000a1', '+64999809999', 1, 'USD')$q$),
  ('insert ledger entry', $q$INSERT INTO number_wallet.transactions (wallet_id, user_id, type, kind, amount,
                       currency, balance_after, description)
                       SELECT gen_random_uuid(), '0de00000-0000-0000-0000-0000000000a1', 'CREDIT', 'topup', 1000,
                              'USD', 1000, 'Top-up'$q$),
  ('insert discrepancy', $q$INSERT INTO number_wallet.discrepancies (kind, phone_number)
                       VALUES ('missing_at_provider', '+64999800011')$q$),
  ('update wallets', 'UPDATE number_wallet.wallets SET balance_usd = balance_usd + 1000'),
  ('update numbers', 'UPDATE number_wallet.business_numbers SET paid_until = paid_until + interval ''1 year'''),
  ('update ledger', 'UPDATE number_wallet.transactions SET amount = amount'),
  ('update discrepancies', 'UPDATE number_wallet.discrepancies SET resolved_at = now()'),
  ('delete wallets', 'DELETE FROM number_wallet.wallets'),
  ('delete numbers', 'DELETE FROM number_wallet.business_numbers'),
  ('delete ledger', 'DELETE FROM number_wallet.transactions'),
  ('delete discrepancies', 'DELETE FROM number_wallet.discrepancies'),
  ('truncate wallets', 'TRUNCATE number_wallet.wallets'),
  ('truncate numbers', 'TRUNCATE number_wallet.business_numbers'),
  ('truncate ledger', 'TRUNCATE number_wallet.transactions'),
  ('truncate discrepancies', 'TRUNCATE number_wallet.discrepancies'),
  ('setval ledger ids', 'SELECT setval(''number_wallet.transactions_id_seq'', 1)'),
  ('nextval ledger ids', 'SELECT nextval(''number_wallet.transactions_id_seq'')'),
  ('setval discrepancy ids', 'SELECT setval(''number_wallet.discrepancies_id_seq'', 1)'),
  ('record own number missing', $q$SELECT number_wallet.record_discrepancy('missing_at_provider', '+64999800011',
                       'PN0de000000000000000000000000011', NULL, 'not listed')$q$),
  ('resolve a finding', 'SELECT number_wallet.resolve_discrepancy(1, ''done'')'),
  ('reconcile', 'SELECT count(*) FROM number_wallet.wallet_reconcile()'),
  ('credit', $q$SELECT number_wallet.wallet_credit('0de00000-0000-0000-0000-0000000000a1', 1000)$q$),
  ('adjust', $q$SELECT number_wallet.update_wallet_balance_atomic((SELECT id FROM number_wallet.wallets
                       WHERE user_id = '0de00000-0000-0000-0000-0000000000a1'), 1000, 'USD')$q$),
  ('renew', 'SELECT number_wallet.renew_due_numbers()'),
  ('release bob''s number', format('SELECT number_wallet.release_number(%L, %L)',
                                    '0de00000-0000-0000-0000-0000000000b2', p_bob_number)),
  ('release bob''s number as own', format('SELECT number_wallet.release_number(%L, %L)',
                                    '0de00000-0000-0000-0000-0000000000a1', p_bob_number)),
  ('snapshot_sees gone', 'SELECT number_wallet.snapshot_sees(''1''::xid)'),
  ('boundary_selftest', 'SELECT number_wallet._boundary_selftest(''runtime_error'')'),
  ('grant itself end user', 'SELECT number_wallet.grant_end_user(current_user::regrole)')
$$;
-- Every read of another user's rows or of an aggregate: the rows it returns.
CREATE FUNCTION regress_def.reads(p_bob_number uuid) RETURNS TABLE (source text, stmt text) LANGUAGE sql STABLE AS $$
  VALUES
  ('wallets', 'SELECT * FROM number_wallet.wallets WHERE user_id <> ''0de00000-0000-0000-0000-0000000000a1'''),
  ('numbers', 'SELECT * FROM number_wallet.business_numbers WHERE user_id <> ''0de00000-0000-0000-0000-0000000000a1'''),
  ('ledger', 'SELECT * FROM number_wallet.transactions WHERE user_id <> ''0de00000-0000-0000-0000-0000000000a1'''),
  ('discrepancies', 'SELECT * FROM number_wallet.discrepancies'),
  ('numbers_needing_intervention', 'SELECT * FROM number_wallet.numbers_needing_intervention'),
  ('daily_transaction_summary', 'SELECT * FROM number_wallet.daily_transaction_summary'),
  ('purchase_success_rate', 'SELECT * FROM number_wallet.purchase_success_rate WHERE total > 0'),
  ('wallet_reconcile', 'SELECT * FROM number_wallet.wallet_reconcile()'),
  ('bob''s refund quote', format('SELECT number_wallet.refund_quote(%L)', p_bob_number))
$$;

\set d_alice '0de00000-0000-0000-0000-0000000000a1'
\set d_bob   '0de00000-0000-0000-0000-0000000000b2'
SELECT number_wallet.wallet_credit(:'d_alice', 50) IS NOT NULL AS alice_credited,
       number_wallet.wallet_credit(:'d_bob', 50) IS NOT NULL AS bob_credited;
SELECT public.nw_bought(:'d_alice', '+64999800011', 5, 'PN0de000000000000000000000000011') IS NOT NULL AS alice_bought,
       public.nw_bought(:'d_bob', '+64999800021', 5, 'PN0de000000000000000000000000021') IS NOT NULL AS bob_bought;
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+64999800099', NULL, NULL, 'bob''s finding')
         IS NOT NULL AS finding_recorded;
SELECT id AS bob_num FROM number_wallet.business_numbers WHERE phone_number = '+64999800021' \gset
SELECT public.nw_money_state() AS money_before \gset
SELECT count(*) AS findings_before FROM number_wallet.discrepancies \gset

-- ---------------------------------------------------------------------------
-- 1. Supabase's recipe for a custom schema, verbatim (as the superuser).
-- ---------------------------------------------------------------------------
GRANT USAGE ON SCHEMA number_wallet TO anon, authenticated, service_role;
GRANT ALL ON ALL TABLES IN SCHEMA number_wallet TO anon, authenticated, service_role;
GRANT ALL ON ALL ROUTINES IN SCHEMA number_wallet TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA number_wallet TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA number_wallet GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA number_wallet GRANT ALL ON ROUTINES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA number_wallet GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;

-- What each role holds afterwards: anon and service_role nothing; authenticated
-- exactly what grant_end_user gave it (the event trigger took back the rest).
SELECT * FROM regress_def.held('anon');
SELECT * FROM regress_def.held('service_role');
SELECT * FROM regress_def.held('authenticated');
SELECT count(*) AS sequence_grants FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind = 'S';

-- anon, with claims naming alice (claims gain an anonymous caller nothing).
SET ROLE anon;
SET request.jwt.claims = '{"sub":"0de00000-0000-0000-0000-0000000000a1","role":"anon"}';
SELECT attack, regress_def.state(stmt) AS outcome FROM regress_def.attacks(:'bob_num');
SELECT source, regress_def.state(stmt) AS outcome FROM regress_def.reads(:'bob_num');
RESET ROLE;
-- authenticated, signed in as alice.
SET ROLE authenticated;
SET request.jwt.claims = '{"sub":"0de00000-0000-0000-0000-0000000000a1","role":"authenticated"}';
SELECT attack, regress_def.state(stmt) AS outcome FROM regress_def.attacks(:'bob_num');
SELECT source, regress_def.state(stmt) AS outcome FROM regress_def.reads(:'bob_num');
SELECT user_id, balance_usd FROM number_wallet.wallets;
SELECT phone_number, status FROM number_wallet.business_numbers;
RESET ROLE;
-- service_role (BYPASSRLS, but no privilege left).
SET ROLE service_role;
RESET request.jwt.claims;
SELECT attack, regress_def.state(stmt) AS outcome FROM regress_def.attacks(:'bob_num') WHERE attack LIKE 'insert%' OR attack LIKE 'setval%';
SELECT source, regress_def.state(stmt) AS outcome FROM regress_def.reads(:'bob_num') WHERE source IN ('wallets', 'ledger');
RESET ROLE;
SELECT public.nw_money_state() = :'money_before' AS no_money_moved,
       (SELECT count(*) FROM number_wallet.discrepancies) = :findings_before AS no_finding_recorded,
       (SELECT last_value FROM number_wallet.transactions_id_seq) > 1 AS ledger_ids_not_moved;

-- ---------------------------------------------------------------------------
-- 2. The layers behind the event trigger: with it off, the recipe leaves every
--    privilege in place, and still row-level security (INSERT refused, UPDATE
--    and DELETE see no row), the TRUNCATE triggers and the functions' own
--    caller checks refuse every attack on the tables and the functions.
--    (Sequences have only the event trigger: GRANT ALL gives setval.)
-- ---------------------------------------------------------------------------
ALTER EVENT TRIGGER number_wallet_keep_privileges DISABLE;
GRANT USAGE ON SCHEMA number_wallet TO anon, authenticated, service_role;
GRANT ALL ON ALL TABLES IN SCHEMA number_wallet TO anon, authenticated, service_role;
GRANT ALL ON ALL ROUTINES IN SCHEMA number_wallet TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA number_wallet TO anon, authenticated, service_role;
SELECT has_function_privilege('anon', 'number_wallet.record_discrepancy(text, text, text, uuid, text)', 'EXECUTE')
         AS anon_may_execute_record_discrepancy,
       has_table_privilege('anon', 'number_wallet.discrepancies', 'INSERT, TRUNCATE') AS anon_holds_insert;
SET ROLE anon;
SET request.jwt.claims = '{"sub":"0de00000-0000-0000-0000-0000000000a1","role":"anon"}';
SELECT attack, regress_def.state(stmt) AS outcome FROM regress_def.attacks(:'bob_num') WHERE attack NOT LIKE '%val%';
SELECT source, regress_def.state(stmt) AS outcome FROM regress_def.reads(:'bob_num');
RESET ROLE;
SET ROLE authenticated;
SET request.jwt.claims = '{"sub":"0de00000-0000-0000-0000-0000000000a1","role":"authenticated"}';
SELECT attack, regress_def.state(stmt) AS outcome FROM regress_def.attacks(:'bob_num') WHERE attack NOT LIKE '%val%';
SELECT source, regress_def.state(stmt) AS outcome FROM regress_def.reads(:'bob_num');
-- The views' aggregates (security_invoker) cover alice's own rows only.
SELECT (SELECT sum(count) FROM number_wallet.daily_transaction_summary) AS summary_entries,
       (SELECT total FROM number_wallet.purchase_success_rate) AS purchases_counted;
RESET ROLE;
SELECT public.nw_money_state() = :'money_before' AS no_money_moved,
       (SELECT count(*) FROM number_wallet.discrepancies) = :findings_before AS no_finding_recorded;
-- Back on: the next GRANT (any GRANT) takes the extra privileges back.
ALTER EVENT TRIGGER number_wallet_keep_privileges ENABLE ALWAYS;
GRANT USAGE ON SCHEMA number_wallet TO anon;
SELECT * FROM regress_def.held('anon');
SELECT count(*) AS authenticated_extra FROM regress_def.held('authenticated');

-- ---------------------------------------------------------------------------
-- 3. Row-level security an index can serve: the end user's policy compares
--    user_id with _claimed_user() evaluated once (an initplan), so the plan is
--    an index scan on the user's key, never a scan of everyone's rows.
-- ---------------------------------------------------------------------------
SET ROLE authenticated;
SET request.jwt.claims = '{"sub":"0de00000-0000-0000-0000-0000000000a1","role":"authenticated"}';
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id, amount FROM number_wallet.transactions ORDER BY id DESC LIMIT 20;
EXPLAIN (COSTS OFF) SELECT balance_usd FROM number_wallet.wallets;
EXPLAIN (COSTS OFF) SELECT phone_number FROM number_wallet.business_numbers ORDER BY created_at;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT number_wallet._claimed_user() AS claimed;
SET request.jwt.claims = '{"sub":"not-a-uuid"}';
SELECT number_wallet._claimed_user() AS claimed, (SELECT count(*) FROM number_wallet.transactions) AS entries;
RESET ROLE;
RESET request.jwt.claims;
SELECT number_wallet._claimed_user() AS superuser_claims_nothing;

-- ---------------------------------------------------------------------------
-- 4. refund_quote is STABLE: it reads in its caller's snapshot, so within one
--    statement it answers as of the statement's start, even after a volatile
--    call in the same statement released the number.
-- ---------------------------------------------------------------------------
SELECT id AS alice_num FROM number_wallet.business_numbers WHERE phone_number = '+64999800011' \gset
SELECT number_wallet.release_number(:'d_alice', :'alice_num')->'refund'->>'issued' AS released_with_refund,
       number_wallet.refund_quote(:'alice_num')->>'reason' AS quote_in_the_same_statement;
SELECT number_wallet.refund_quote(:'alice_num')->>'reason' AS quote_in_the_next_statement;
SELECT p.proname, p.provolatile FROM pg_proc p
 WHERE p.pronamespace = 'number_wallet'::regnamespace AND p.proname = 'refund_quote';

-- ---------------------------------------------------------------------------
-- 5. The confirm reports NW004 only for the sid's unique index; any other
--    unique violation (here an index a DBA added) stays 23505.
-- ---------------------------------------------------------------------------
CREATE UNIQUE INDEX regress_def_one_confirm_per_instant ON number_wallet.business_numbers (purchase_date)
 WHERE phone_number IN ('+64999800022', '+64999800023');
SELECT (number_wallet.purchase_number(:'d_bob', p, 1)->>'number_id') IS NOT NULL AS reserved
  FROM unnest(ARRAY['+64999800022', '+64999800023', '+64999800024']) p;
-- Two confirms in one statement share statement_timestamp(): the DBA's index refuses the second.
SELECT regress_def.state($q$SELECT number_wallet.confirm_purchase(id, 'PN0de0000000000000000000000000' || right(phone_number, 2))
                              FROM number_wallet.business_numbers
                             WHERE phone_number IN ('+64999800022', '+64999800023')$q$) AS other_index;
DROP INDEX number_wallet.regress_def_one_confirm_per_instant;
-- The sid already on another number is still NW004.
SELECT regress_def.state($q$SELECT number_wallet.confirm_purchase(id, 'PN0de000000000000000000000000021')
                              FROM number_wallet.business_numbers WHERE phone_number = '+64999800024'$q$) AS sid_taken;

-- ---------------------------------------------------------------------------
-- Clean up the roles (and the recipe's default privileges).
-- ---------------------------------------------------------------------------
ALTER DEFAULT PRIVILEGES IN SCHEMA number_wallet REVOKE ALL ON TABLES FROM anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA number_wallet REVOKE ALL ON ROUTINES FROM anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA number_wallet REVOKE ALL ON SEQUENCES FROM anon, authenticated, service_role;
SET client_min_messages = warning;
DROP OWNED BY anon, authenticated, service_role;
DROP ROLE anon, authenticated, service_role;
RESET client_min_messages;

-- ---------------------------------------------------------------------------
-- 6. DROP EXTENSION keeps a ledger that holds rows: refused, with a hint
--    saying how to keep the rows and how to force it; CASCADE forces it.
--    Other extensions' drops are not affected. (Rolled back: the extension stays.)
-- ---------------------------------------------------------------------------
CREATE FUNCTION regress_def.failure(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_state text; v_message text; v_detail text; v_hint text;
BEGIN
  EXECUTE p_sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                          v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
  RETURN concat_ws(E'\n', v_state, regexp_replace(v_message, '[0-9]+ entries', 'N entries'), v_detail, v_hint);
END
$$;
SELECT regress_def.failure('DROP EXTENSION number_wallet') AS plain_drop;
SELECT extversion AS still_installed FROM pg_extension WHERE extname = 'number_wallet';
DROP EXTENSION IF EXISTS regress_def_no_such_extension;
BEGIN;
DROP EXTENSION number_wallet CASCADE;
SELECT count(*) AS installed_after_cascade FROM pg_extension WHERE extname = 'number_wallet';
-- An empty ledger drops without CASCADE.
CREATE EXTENSION number_wallet;
DROP EXTENSION number_wallet;
SELECT count(*) AS installed_after_plain_drop FROM pg_extension WHERE extname = 'number_wallet';
ROLLBACK;
SELECT extversion AS installed_after_rollback FROM pg_extension WHERE extname = 'number_wallet';
SET client_min_messages = warning;
DROP SCHEMA regress_def CASCADE;
RESET client_min_messages;
