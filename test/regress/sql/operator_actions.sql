-- Operator actions and the audit log (docs/sql-api.md "Operator actions"):
-- force_fail, force_confirm, force_release, adjust_balance and
-- resolve_discrepancy; the reason rule, the caller check, replays (no second
-- audit row), the append-only audit_log, and who may set number_wallet.actor
-- and number_wallet.request_id.
-- The roles are the cluster's: made if missing (an earlier run that could
-- not drop them, since extensions installed meanwhile in other databases
-- grant end users a privilege directly, leaves them behind), dropped at the end.
SET client_min_messages = warning;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_ops_alice') THEN
    CREATE ROLE regress_ops_alice NOLOGIN;   -- an end user
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_ops_svc') THEN
    CREATE ROLE regress_ops_svc NOLOGIN;     -- a trusted back end, as the shim's login
  END IF;
END
$$;
GRANT number_wallet_user TO regress_ops_alice;
GRANT number_wallet_service TO regress_ops_svc;
RESET client_min_messages;

-- 1. Before this session loads the extension's library, number_wallet.actor
-- is only a placeholder, so an end user can give it a value. When the library
-- loads (here, in a superuser's call) the value stays, but it was set by an
-- end user and is never honoured: the audit row names the session user.
SET ROLE regress_ops_alice;
SET number_wallet.actor = 'alice pretending to be an operator';
SET number_wallet.request_id = 'alice-request';
RESET ROLE;
-- (earlier suites resolved findings: count from here)
SELECT count(*) AS audit_rows_at_start FROM number_wallet.audit_log \gset
SET number_wallet.max_purchases_per_hour = 0;
\set ops_user '''0b500000-0000-0000-0000-0000000000a1'''
\set ops_other '''0b500000-0000-0000-0000-0000000000b2'''
SELECT (number_wallet.wallet_credit(:ops_user, 100))->>'balance' AS funded;
SELECT current_setting('number_wallet.actor') AS placeholder_kept;
SELECT (number_wallet.purchase_number(:ops_user, '+14155557000', 8))->>'number_id' AS p1 \gset
SELECT (number_wallet.force_fail(:'p1', 'stuck: Twilio never answered')) - 'number_id' - 'audit_id' AS forced_fail;
SELECT actor = session_user AS actor_is_session_user, request_id IS NULL AS no_request_id, action,
       number_id = :'p1' AS on_number, user_id = :ops_user AS owner_recorded, reason,
       detail - 'number_id' AS detail
  FROM number_wallet.audit_log ORDER BY id DESC LIMIT 1;
RESET number_wallet.actor;
RESET number_wallet.request_id;

-- 2. With the library loaded, an end user cannot set them at all.
SET ROLE regress_ops_alice;
SELECT nw_try($$SET number_wallet.actor = 'evil'$$) AS end_user_set_actor;
SELECT nw_try($$SELECT set_config('number_wallet.request_id', 'evil', true)$$) AS end_user_set_request_id;
SELECT nw_try($$SET LOCAL number_wallet.actor = 'evil'$$) AS end_user_set_local;
SELECT current_setting('number_wallet.actor') = '' AS still_empty;
-- ... nor call an operator action, nor read the audit log.
SELECT nw_try(format('SELECT number_wallet.force_fail(%L, %L)', :'p1', 'x')) AS end_user_force_fail;
SELECT nw_try(format('SELECT number_wallet.adjust_balance(%L, 5, %L, %L)', :ops_user, 'USD', 'x')) AS end_user_adjust;
SELECT nw_try('SELECT count(*) FROM number_wallet.audit_log') AS end_user_reads_audit;
RESET ROLE;

-- 3. The service role sets them for one transaction (SET LOCAL), as the shim does.
SET ROLE regress_ops_svc;
SELECT (number_wallet.purchase_number(:ops_user, '+14155557001', 8))->>'number_id' AS p2 \gset
BEGIN;
SET LOCAL number_wallet.actor = '0b500000-0000-0000-0000-00000000aaaa (ops@example.com)';
SELECT set_config('number_wallet.request_id', 'req-0001.a:b_c', true) IS NOT NULL AS request_id_set;
SELECT (number_wallet.force_confirm(:'p2', 'PN70000000000000000000000000000001', 'bought by hand in the console'))
       - 'number_id' - 'purchase_date' - 'paid_until' - 'audit_id' AS forced_confirm;
COMMIT;
SELECT actor, request_id, action, reason, detail->>'twilio_sid' AS sid, user_id = :ops_user AS owner_recorded
  FROM number_wallet.audit_log ORDER BY id DESC LIMIT 1;
SELECT current_setting('number_wallet.actor') = '' AS actor_gone_after_commit,
       current_setting('number_wallet.request_id') = '' AS request_id_gone_after_commit;
-- Malformed values are refused.
SELECT nw_try($$SET number_wallet.request_id = 'has space'$$) AS bad_request_id;
SELECT nw_try(format('SET number_wallet.request_id = %L', repeat('r', 129))) AS long_request_id;
SELECT nw_try(format('SET number_wallet.actor = %L', E'two\nlines')) AS bad_actor;
SELECT nw_try(format('SET number_wallet.actor = %L', repeat('a', 321))) AS long_actor;
-- The audit row id is in the answer.
SELECT (number_wallet.purchase_number(:ops_user, '+14155557002', 8))->>'number_id' AS p3 \gset
SELECT (number_wallet.force_fail(:'p3', 'test number'))->>'audit_id' AS p3_audit \gset
SELECT id = :p3_audit AS answer_names_its_row, action, number_id = :'p3' AS on_number
  FROM number_wallet.audit_log ORDER BY id DESC LIMIT 1;
RESET ROLE;

-- 4. The reason: 1 to 500 characters, not blank; else 22023 and nothing written.
SELECT (number_wallet.purchase_number(:ops_user, '+14155557003', 8))->>'number_id' AS p4 \gset
SELECT count(*) AS audit_rows_before FROM number_wallet.audit_log \gset
SELECT nw_money_state() AS money_before \gset
SELECT label, nw_try(sql) AS outcome FROM (VALUES
  ('fail, null reason', format('SELECT number_wallet.force_fail(%L, NULL)', :'p4')),
  ('fail, empty reason', format('SELECT number_wallet.force_fail(%L, %L)', :'p4', '')),
  ('fail, blank reason', format('SELECT number_wallet.force_fail(%L, %L)', :'p4', E'  \n ')),
  ('fail, 501 characters', format('SELECT number_wallet.force_fail(%L, %L)', :'p4', repeat('é', 501))),
  ('fail, control character', format('SELECT number_wallet.force_fail(%L, %L)', :'p4', E'bell\x07')),
  ('confirm, no reason', format('SELECT number_wallet.force_confirm(%L, %L, NULL)', :'p4', 'PN7')),
  ('confirm, bad sid', format('SELECT number_wallet.force_confirm(%L, %L, %L)', :'p4', 'P', 'x')),
  ('release, no reason', format('SELECT number_wallet.force_release(%L, true, %L)', :'p1', '')),
  ('release, null refund', format('SELECT number_wallet.force_release(%L, NULL, %L)', :'p1', 'x')),
  ('adjust, no reason', format('SELECT number_wallet.adjust_balance(%L, 5, %L, NULL)', :ops_user, 'USD')),
  ('adjust, zero', format('SELECT number_wallet.adjust_balance(%L, 0, %L, %L)', :ops_user, 'USD', 'x')),
  ('adjust, three decimals', format('SELECT number_wallet.adjust_balance(%L, 1.005, %L, %L)', :ops_user, 'USD', 'x')),
  ('adjust, bad currency', format('SELECT number_wallet.adjust_balance(%L, 1, %L, %L)', :ops_user, 'EUR', 'x')),
  ('adjust, bad key', format('SELECT number_wallet.adjust_balance(%L, 1, %L, %L, %L)', :ops_user, 'USD', 'x', '')),
  ('resolve, empty note', 'SELECT number_wallet.resolve_discrepancy(1, '''')'),
  ('resolve, long note', format('SELECT number_wallet.resolve_discrepancy(1, %L)', repeat('n', 501))),
  ('fail, null number', 'SELECT number_wallet.force_fail(NULL, ''x'')')
) v(label, sql);
SELECT count(*) = :audit_rows_before AS no_audit_row, nw_money_state() = :'money_before' AS money_unchanged
  FROM number_wallet.audit_log;
-- 500 characters are enough.
SELECT (number_wallet.force_fail(:'p4', repeat('é', 500)))->>'status' AS with_500_characters;

-- 5. force_fail: state rules and replays.
SELECT nw_try(format('SELECT number_wallet.force_fail(%L, %L)', '0b500000-0000-0000-0000-000000000000', 'x')) AS not_found;
SELECT nw_bought(:ops_user, '+14155557004', 8, 'PN70000000000000000000000000000004') AS a1 \gset
SELECT nw_try(format('SELECT number_wallet.force_fail(%L, %L)', :'a1', 'x')) AS fail_active;
SELECT count(*) AS audit_rows_before FROM number_wallet.audit_log \gset
SELECT (number_wallet.force_fail(:'p1', 'again')) - 'number_id' AS fail_replay;
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM number_wallet.audit_log;
SELECT count(*) AS reversals FROM number_wallet.transactions WHERE number_id = :'p1' AND kind = 'reversal';
-- A purchase the saga already failed replays too, and writes no audit row.
SELECT (number_wallet.purchase_number(:ops_user, '+14155557005', 8))->>'number_id' AS p5 \gset
SELECT (number_wallet.fail_purchase(:'p5', 'Twilio 21422'))->>'status' AS saga_failed;
SELECT (number_wallet.force_fail(:'p5', 'operator too'))->>'replayed' AS replayed;
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM number_wallet.audit_log;

-- 6. force_confirm: a repeat with the same sid replays; another sid or state is NW004.
SELECT (number_wallet.force_confirm(:'p2', 'PN70000000000000000000000000000001', 'again'))->>'replayed' AS replayed;
SELECT nw_try(format('SELECT number_wallet.force_confirm(%L, %L, %L)', :'p2', 'PN7000000000000000000000000000000X', 'x'))
       AS other_sid;
SELECT nw_try(format('SELECT number_wallet.force_confirm(%L, %L, %L)', :'p1', 'PN7000000000000000000000000000000Y', 'x'))
       AS confirm_failed;
-- The sid of another number: NW004, never 23505.
SELECT (number_wallet.purchase_number(:ops_user, '+14155557006', 8))->>'number_id' AS p6 \gset
SELECT nw_try(format('SELECT number_wallet.force_confirm(%L, %L, %L)', :'p6', 'PN70000000000000000000000000000004', 'x'))
       AS sid_taken;
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM number_wallet.audit_log;

-- 7. force_release: refund only when asked, at most once; replays; state rules.
SELECT (number_wallet.wallet_credit(:ops_user, 0.01))->>'balance' AS balance_before;
SELECT (number_wallet.force_release(:'a1', true, 'customer was double charged')) - 'number_id' - 'audit_id'
       AS released_with_refund;
SELECT (number_wallet.force_release(:'a1', true, 'again')) - 'number_id' AS release_replay;
SELECT (number_wallet.force_release(:'a1', false, 'again without refund'))->'refund' AS replay_reports_first_refund;
SELECT kind, type, amount, description FROM number_wallet.transactions
 WHERE number_id = :'a1' ORDER BY id;
SELECT status, released_at IS NOT NULL AS has_released_at FROM number_wallet.business_numbers WHERE id = :'a1';
SELECT nw_bought(:ops_user, '+14155557007', 8, 'PN70000000000000000000000000000007') AS a2 \gset
SELECT (number_wallet.force_release(:'a2', false, 'abuse report'))->'refund' AS released_without_refund;
SELECT count(*) AS refunds FROM number_wallet.transactions WHERE number_id = :'a2' AND kind = 'refund';
SELECT nw_try(format('SELECT number_wallet.force_release(%L, true, %L)', :'p6', 'x')) AS release_pending;
SELECT nw_try(format('SELECT number_wallet.force_release(%L, true, %L)', :'p1', 'x')) AS release_failed;
SELECT action, reason, detail->'refund' AS refund FROM number_wallet.audit_log
 WHERE action = 'force_release' ORDER BY id;

-- 8. adjust_balance: signed, one adjustment entry, never below zero, replays by key.
SELECT (number_wallet.adjust_balance(:ops_user, -2.50, 'USD', 'goodwill correction', 'adj-1'))
       - 'wallet_id' - 'user_id' - 'transaction_id' - 'audit_id' AS debit;
SELECT (number_wallet.adjust_balance(:ops_user, -2.50, 'USD', 'goodwill correction', 'adj-1'))
       - 'wallet_id' - 'user_id' - 'transaction_id' - 'audit_id' AS replay;
SELECT count(*) AS audit_rows_for_key FROM number_wallet.audit_log WHERE detail->>'idempotency_key' = 'adj-1';
SELECT count(*) AS entries FROM number_wallet.transactions WHERE user_id = :ops_user AND kind = 'adjustment';
SELECT nw_try(format('SELECT number_wallet.adjust_balance(%L, -3, %L, %L, %L)', :ops_user, 'USD', 'x', 'adj-1'))
       AS key_reused;
SELECT nw_try(format('SELECT number_wallet.adjust_balance(%L, -1000, %L, %L)', :ops_user, 'USD', 'x')) AS below_zero;
SELECT nw_try(format('SELECT number_wallet.adjust_balance(%L, -1, %L, %L)', :ops_other, 'USD', 'x')) AS no_wallet;
-- A credit creates the wallet; an INR adjustment leaves USD alone.
SELECT (number_wallet.adjust_balance(:ops_other, 12.34, 'INR', 'promised credit')) ->> 'balance' AS new_wallet_inr;
SELECT balance_usd, balance_inr FROM number_wallet.wallets WHERE user_id = :ops_other;
SELECT type, kind, amount, currency, balance_after, description, number_id FROM number_wallet.transactions
 WHERE user_id = :ops_other ORDER BY id;
-- The key belongs to the user: another user's same key is a new adjustment.
SELECT (number_wallet.adjust_balance(:ops_other, -2.50, 'INR', 'other user, same key', 'adj-1'))->>'replayed'
       AS other_users_key;

-- 9. resolve_discrepancy: the note is the reason; the audit row names the finding and the number's owner.
SELECT number_wallet.record_discrepancy('missing_at_provider', '+14155557007', 'PN70000000000000000000000000000007',
                                        :'a2', 'gone at Twilio') AS d1 \gset
SELECT (number_wallet.resolve_discrepancy(:d1, 'deleted by hand at Twilio')) - 'id' - 'resolved_at' - 'audit_id'
       AS resolved;
SELECT action, discrepancy_id = :d1 AS on_finding, number_id = :'a2' AS on_number, user_id = :ops_user AS owner,
       reason FROM number_wallet.audit_log ORDER BY id DESC LIMIT 1;
SELECT count(*) AS audit_rows_before FROM number_wallet.audit_log \gset
SELECT (number_wallet.resolve_discrepancy(:d1, 'again')) - 'id' - 'resolved_at' AS resolve_replay;
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM number_wallet.audit_log;

-- 10. audit_log is append-only, for its owner too, also as a replica; only the functions write it.
SELECT nw_try('UPDATE number_wallet.audit_log SET reason = ''rewritten''') AS owner_update;
SELECT nw_try('DELETE FROM number_wallet.audit_log') AS owner_delete;
SELECT nw_try('TRUNCATE number_wallet.audit_log') AS owner_truncate;
SET session_replication_role = replica;
SELECT nw_try('DELETE FROM number_wallet.audit_log') AS replica_delete;
RESET session_replication_role;
SET ROLE regress_ops_svc;
SELECT count(*) > 0 AS service_reads FROM number_wallet.audit_log;
SELECT nw_try('INSERT INTO number_wallet.audit_log (actor, action, reason) VALUES (''me'', ''force_fail'', ''x'')')
       AS service_insert;
SELECT nw_try('UPDATE number_wallet.audit_log SET reason = ''x''') AS service_update;
SELECT nw_try(format('SELECT number_wallet._audit_write(%L, NULL, NULL, NULL, %L, NULL)', 'force_fail', 'x'))
       AS service_audit_write;
RESET ROLE;
SELECT relrowsecurity AS row_level_security FROM pg_class WHERE oid = 'number_wallet.audit_log'::regclass;
SELECT count(*) - :audit_rows_at_start AS audit_rows_written, count(DISTINCT action) AS actions
  FROM number_wallet.audit_log;

-- Every money movement above kept the ledger's rules.
SELECT count(*) AS reconcile_rows FROM number_wallet.wallet_reconcile();
RESET number_wallet.max_purchases_per_hour;

SET client_min_messages = warning;
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['regress_ops_alice', 'regress_ops_svc'] LOOP
    EXECUTE format('DROP OWNED BY %I', r);
    BEGIN
      EXECUTE format('DROP ROLE %I', r);
    EXCEPTION WHEN dependent_objects_still_exist THEN
      NULL;  -- privileges in another database: the next run reuses the role
    END;
  END LOOP;
END
$$;
RESET client_min_messages;
