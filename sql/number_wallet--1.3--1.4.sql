/* sql/number_wallet--1.3--1.4.sql: number_wallet 1.3 -> 1.4.
 *
 * From 1.4 on, a fresh CREATE EXTENSION runs one whole install script,
 * number_wallet--1.4.sql, which the Makefile copies from sql/number_wallet.sql
 * (the schema as it is now, each object with its comment and grants). An
 * existing database gets here with ALTER EXTENSION number_wallet UPDATE, through
 * 1.0 and the update scripts. test/e2e/upgrade_test.sh checks that both roads
 * end in the same catalog (bodies, privileges, comments, policies, indexes).
 *
 * 1.4 changes no table and no row:
 *   * the internal helpers get names that say so (a leading underscore);
 *   * the SQL no longer repeats a setting's default: _setting() reads it from
 *     the library, which names each default once (extension/settings.hpp);
 *   * import_seed asks api_numbers.held whether a phone number is held instead
 *     of spelling the held-number predicate again;
 *   * the objects 1.0 left undocumented get their comments;
 *   * business_numbers_user_created gains id, the list's tie-break, so a page
 *     of a user's numbers is an index range under a generic plan too.
 */
\echo Use "ALTER EXTENSION number_wallet UPDATE TO '1.4'" to load this file. \quit

-- ==== internal helpers: names that say so ====
-- Not API (docs/sql-api.md "Internal functions"): the row-level security and
-- caller checks, the audit row of the PL/pgSQL actions, the guard's self-test.
-- RENAME keeps each function's oid, privileges and comment; the policies name
-- _claimed_user() by oid and follow. The C symbols stay (the released scripts
-- name them).
ALTER FUNCTION @extschema@.row_visible(uuid) RENAME TO _row_visible;
ALTER FUNCTION @extschema@.claimed_user() RENAME TO _claimed_user;
ALTER FUNCTION @extschema@.require_service(text) RENAME TO _require_service;
ALTER FUNCTION @extschema@.audit_write(text, uuid, uuid, bigint, text, text) RENAME TO _audit_write;
ALTER FUNCTION @extschema@.boundary_selftest(text) RENAME TO _boundary_selftest;
-- The end users' policies follow the rename by oid, but their subquery keeps
-- the column name claimed_user; restated, they read as a fresh install's.
ALTER POLICY wallets_visible ON @extschema@.wallets USING (user_id = (SELECT @extschema@._claimed_user()));
ALTER POLICY business_numbers_visible ON @extschema@.business_numbers
  USING (user_id = (SELECT @extschema@._claimed_user()));
ALTER POLICY transactions_visible ON @extschema@.transactions USING (user_id = (SELECT @extschema@._claimed_user()));
COMMENT ON FUNCTION @extschema@._row_visible(uuid) IS
  'Internal: whether the caller may see this user''s rows; no policy uses it since 1.2 (they compare user_id '
  'with _claimed_user()).';
COMMENT ON FUNCTION @extschema@._claimed_user() IS
  'Internal (row-level security): the user a trusted end user''s claims name, or NULL for anyone else.';
COMMENT ON FUNCTION @extschema@._boundary_selftest(text) IS
  'Internal, superuser only: proves the C++/PostgreSQL error guard.';

-- ==== settings: each default named once, in the library ====
CREATE FUNCTION @extschema@._setting(p_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Calling a C function loads the library, which defines every number_wallet.* setting with its default.
  PERFORM number_wallet._claimed_user();
  RETURN current_setting(p_name);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._setting(text) TO number_wallet_service;
COMMENT ON FUNCTION @extschema@._setting(text) IS
  'Internal: a number_wallet.* setting''s value, its default taken from the library (extension/settings.hpp).';

CREATE OR REPLACE VIEW @extschema@.numbers_needing_intervention WITH (security_invoker = true) AS
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

-- ==== the bodies that call a renamed helper ====
-- (PL/pgSQL and SQL bodies name functions by text.) Otherwise unchanged, but
-- import_seed: the refund window through _setting(), and api_numbers.held for
-- "the phone number is held".
CREATE OR REPLACE FUNCTION @extschema@.record_discrepancy(p_kind text, p_phone_number text, p_twilio_sid text,
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

CREATE OR REPLACE FUNCTION @extschema@.resolve_discrepancy(p_id bigint, p_note text)
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

CREATE OR REPLACE FUNCTION @extschema@.wallet_reconcile()
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

CREATE OR REPLACE FUNCTION @extschema@.metrics_snapshot()
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
                 'number_wallet.release_number(uuid, uuid), number_wallet._row_visible(uuid), '
                 'number_wallet._claimed_user() TO %s', p_role);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.import_seed(p_schema name DEFAULT 'public', p_dry_run boolean DEFAULT true)
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

-- ==== documentation the catalog lacked ====
COMMENT ON FUNCTION @extschema@.business_numbers_rules() IS
  'Trigger: the row rules of business_numbers (what CHECK constraints would say), in C; see row_rules.cpp.';
COMMENT ON FUNCTION @extschema@.transactions_rules() IS
  'Trigger: the row rules of the ledger (what CHECK constraints would say), in C; see row_rules.cpp.';
COMMENT ON FUNCTION @extschema@.refuse_ledger_change() IS
  'Trigger: the ledger refuses UPDATE, DELETE and TRUNCATE, even from its owner.';
COMMENT ON INDEX @extschema@.business_numbers_held_phone_number IS
  'The held-number rule: at most one row holds a phone number (pending, active, or released and not yet deleted '
  'at the provider). Its predicate is repeated by api_numbers.held and by purchase_number''s ON CONFLICT target.';
COMMENT ON INDEX @extschema@.transactions_one_per_number IS
  'A number has at most one purchase, one reversal and one refund entry.';
COMMENT ON INDEX @extschema@.discrepancies_open IS
  'One open finding per (kind, phone_number, twilio_sid, number_id), NULLs equal.';

-- ==== a user's numbers in the list's whole order ====
-- (user_id, created_at) becomes (user_id, created_at, id): the shim's number
-- list orders by (created_at DESC, id DESC) and resumes after a (created_at, id)
-- cursor, which is then an index range that stops at the page's LIMIT, under a
-- generic plan too. The purchase rate limit's (user_id, created_at) range is
-- served as before. Replaced, not added: one index to write per purchase.
DROP INDEX @extschema@.business_numbers_user_created;
CREATE INDEX business_numbers_user_created ON @extschema@.business_numbers (user_id, created_at, id);
COMMENT ON INDEX @extschema@.business_numbers_user_created IS
  'A user''s numbers in (created_at, id) order: the number list''s pages and the purchase rate limit.';
