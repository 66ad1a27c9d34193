-- Helpers shared by the regression suites (they run in one database, in order).
-- nw_try runs a statement and reports its SQLSTATE, message and detail, so
-- each refusal is asserted by code, not just by "some error".
CREATE FUNCTION public.nw_try(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_state text; v_message text; v_detail text;
BEGIN
  EXECUTE p_sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
  RETURN v_state || ': ' || v_message || CASE WHEN v_detail <> '' THEN ' | ' || v_detail ELSE '' END;
END
$$;

-- Fingerprint of all money state: any change to a balance or the ledger changes it.
CREATE FUNCTION public.nw_money_state() RETURNS text LANGUAGE sql AS $$
  SELECT md5(coalesce((SELECT string_agg(w::text, ';' ORDER BY id) FROM number_wallet.wallets w), '') ||
             coalesce((SELECT string_agg(t::text, ';' ORDER BY id) FROM number_wallet.transactions t), '') ||
             coalesce((SELECT string_agg(n::text, ';' ORDER BY id) FROM number_wallet.business_numbers n), ''))
$$;

-- Reserves and confirms a number for a user; returns its id.
CREATE FUNCTION public.nw_bought(p_user uuid, p_phone text, p_cost numeric, p_sid text) RETURNS uuid
LANGUAGE sql AS $$
  SELECT (number_wallet.confirm_purchase(
            ((number_wallet.purchase_number(p_user, p_phone, p_cost))->>'number_id')::uuid, p_sid)->>'number_id')::uuid
$$;

-- The SQL contract's names and signatures (docs/sql-api.md): no rows = conforms.
WITH wanted(name, args, result) AS (VALUES
  ('wallet_credit', 'p_user_id uuid, p_amount numeric, p_currency text DEFAULT ''USD''::text, p_description text DEFAULT ''Top-up''::text, p_idempotency_key text DEFAULT NULL::text', 'jsonb'),
  ('update_wallet_balance_atomic', 'p_wallet_id uuid, p_amount numeric, p_currency text', 'number_wallet.wallets'),
  ('purchase_number', 'p_user_id uuid, p_phone_number text, p_monthly_cost numeric, p_currency text DEFAULT ''USD''::text, p_display_name text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text', 'jsonb'),
  ('confirm_purchase', 'p_number_id uuid, p_twilio_sid text', 'jsonb'),
  ('fail_purchase', 'p_number_id uuid, p_reason text', 'jsonb'),
  ('refund_quote', 'p_number_id uuid, p_at timestamp with time zone DEFAULT now()', 'jsonb'),
  ('release_number', 'p_user_id uuid, p_number_id uuid', 'jsonb'),
  ('mark_provider_released', 'p_number_id uuid', 'jsonb'),
  ('renew_due_numbers', 'p_limit integer DEFAULT 100', 'jsonb'),
  ('resolve_discrepancy', 'p_id bigint, p_note text', 'jsonb'),
  ('grant_end_user', 'p_role regrole', 'void'),
  ('record_discrepancy', 'p_kind text, p_phone_number text, p_twilio_sid text, p_number_id uuid, p_detail text', 'bigint'),
  ('wallet_reconcile', '', NULL)
)
SELECT w.name AS missing_or_different
  FROM wanted w
 WHERE NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'number_wallet' AND p.proname = w.name
                      AND pg_get_function_arguments(p.oid) = w.args
                      AND (w.result IS NULL OR pg_get_function_result(p.oid) = w.result));
