/* sql/number_wallet--1.2--1.3.sql: number_wallet 1.2 -> 1.3.
 *
 * A fresh CREATE EXTENSION runs 1.0, 1.1, 1.2 and then this script; an
 * existing database gets here with ALTER EXTENSION number_wallet UPDATE.
 * test/e2e/upgrade_test.sh checks that both roads end in the same catalog.
 * Each topic has a section of its own.
 */
\echo Use "ALTER EXTENSION number_wallet UPDATE TO '1.3'" to load this file. \quit

-- ==== operations: audit_log and operator actions (issue 12) ====
--
-- What a person does to money or ownership has a name, a reason and a trail
-- (docs/sql-api.md "Operator actions"): force_fail, force_confirm,
-- force_release and adjust_balance (C++, operator_functions.cpp) and
-- resolve_discrepancy (PL/pgSQL, below) each take a reason of 1 to 500
-- characters and write one audit_log row in the transaction of their effect;
-- a repeat that changes nothing writes none. The actor and the request id
-- come from number_wallet.actor / number_wallet.request_id when the service
-- role set them (the shim does, per HTTP request), else session_user and NULL.

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
-- Support look-ups by number and by user (newest first), and one adjustment
-- per user and idempotency key (the key is kept in the row's detail).
CREATE INDEX audit_log_number ON @extschema@.audit_log (number_id) WHERE number_id IS NOT NULL;
CREATE INDEX audit_log_user ON @extschema@.audit_log (user_id, id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX audit_log_adjustment_key ON @extschema@.audit_log (user_id, (detail ->> 'idempotency_key'))
  WHERE action = 'adjust_balance';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.audit_log', 'id'), '');
COMMENT ON TABLE @extschema@.audit_log IS
  'Operator actions: who (actor), what (action, the function''s name), on what, why (reason), from which request; '
  'append-only, written only by the extension''s functions.';
COMMENT ON COLUMN @extschema@.audit_log.actor IS
  'number_wallet.actor as the service role set it (an operator''s sub and email, service, admin-key), '
  'else the session user.';
COMMENT ON COLUMN @extschema@.audit_log.user_id IS 'The user whose wallet or number the action touched.';
COMMENT ON COLUMN @extschema@.audit_log.request_id IS 'number_wallet.request_id as the service role set it (X-Request-Id).';
COMMENT ON COLUMN @extschema@.audit_log.detail IS 'The action''s answer (amounts, refund, sid, idempotency key).';

-- Append-only like the ledger: UPDATE, DELETE and TRUNCATE refused, even
-- from the owner and under session_replication_role = replica.
CREATE FUNCTION @extschema@.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'number_wallet.audit_log is append-only'
    USING ERRCODE = '42501',
          DETAIL = pg_catalog.format('%s is not allowed on the audit log.', TG_OP),
          HINT = 'The audit log records what was done; it is never rewritten.';
END
$$;
REVOKE ALL ON FUNCTION @extschema@.refuse_audit_change() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.refuse_audit_change() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on audit_log.';
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON @extschema@.audit_log
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON @extschema@.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_audit_change();
ALTER TABLE @extschema@.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE @extschema@.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- Readable by the service role only; written only by the owner (the functions).
ALTER TABLE @extschema@.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_service ON @extschema@.audit_log FOR SELECT TO number_wallet_service USING (true);
REVOKE ALL ON @extschema@.audit_log FROM PUBLIC;
GRANT SELECT ON @extschema@.audit_log TO number_wallet_service;

-- The audit row of the actions written in PL/pgSQL (audit.cpp). EXECUTE is
-- granted to nobody: only the extension's SECURITY DEFINER functions call it.
CREATE FUNCTION @extschema@.audit_write(p_action text, p_number_id uuid, p_user_id uuid, p_discrepancy_id bigint,
                                        p_reason text, p_detail text)
RETURNS bigint AS 'MODULE_PATHNAME', 'nw_audit_write' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.audit_write(text, uuid, uuid, bigint, text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.audit_write(text, uuid, uuid, bigint, text, text) IS
  'Internal: appends the audit_log row of an operator action written in PL/pgSQL.';

CREATE FUNCTION @extschema@.force_fail(p_number_id uuid, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_force_fail'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.force_fail(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.force_fail(uuid, text) TO number_wallet_service;
COMMENT ON FUNCTION @extschema@.force_fail(uuid, text) IS
  'Operator action: pending -> failed with a full reversal (as fail_purchase), audited with the reason.';

CREATE FUNCTION @extschema@.force_confirm(p_number_id uuid, p_twilio_sid text, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_force_confirm'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.force_confirm(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.force_confirm(uuid, text, text) TO number_wallet_service;
COMMENT ON FUNCTION @extschema@.force_confirm(uuid, text, text) IS
  'Operator action: pending -> active under the provider sid (as confirm_purchase), audited with the reason.';

CREATE FUNCTION @extschema@.force_release(p_number_id uuid, p_refund boolean, p_reason text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_force_release'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.force_release(uuid, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.force_release(uuid, boolean, text) TO number_wallet_service;
COMMENT ON FUNCTION @extschema@.force_release(uuid, boolean, text) IS
  'Operator action: active -> released, refunding the purchase (once) only when p_refund; audited with the reason.';

CREATE FUNCTION @extschema@.adjust_balance(p_user_id uuid, p_amount numeric, p_currency text, p_reason text,
                                           p_idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'nw_adjust_balance'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.adjust_balance(uuid, numeric, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.adjust_balance(uuid, numeric, text, text, text) TO number_wallet_service;
COMMENT ON FUNCTION @extschema@.adjust_balance(uuid, numeric, text, text, text) IS
  'Operator action: a signed, non-zero adjustment entry, never below zero (NW001); replays by idempotency key; '
  'audited with the reason.';

-- resolve_discrepancy: the note is now the action's reason (1 to 500
-- characters) and closing a finding writes its audit row; a repeat replays.
CREATE OR REPLACE FUNCTION @extschema@.resolve_discrepancy(p_id bigint, p_note text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_row number_wallet.discrepancies;
  v_result jsonb;
  v_owner uuid;
  v_replayed boolean := true;
BEGIN
  PERFORM number_wallet.require_service('resolve_discrepancy');
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
    number_wallet.audit_write('resolve_discrepancy', v_row.number_id, v_owner, v_row.id, p_note, v_result::text));
END
$$;
