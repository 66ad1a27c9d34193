-- The PL/pgSQL peer: the same purchase contract as number_wallet's
-- purchase_number + confirm_purchase, written the way a user would write it
-- without the extension: plain PL/pgSQL functions, one SQL statement per rule,
-- on a copy of the tables and indexes the contract needs (schema plpgsql_peer).
--   purchase_number: lock the wallet FOR UPDATE, idempotency-key replay or
--     refusal, rolling-hour rate limit, balance, held-number check, insert the
--     pending number, debit the wallet and write the ledger row;
--   confirm_purchase: pending -> active with the provider sid (a replay of the
--     same confirmation answers again; anything else is refused).
-- The indexes are those the same guarantees need: at most one held row per
-- phone number, one purchase entry per number, idempotency per user, the
-- user's numbers by creation time (rate limit, listings), the renewal pass and
-- the reconciler's unsettled numbers; the row rules are ordinary CHECKs.
-- The rate limit reads the setting plpgsql_peer.max_purchases_per_hour (0 or
-- unset: no limit), as number_wallet reads number_wallet.max_purchases_per_hour.
-- Load: psql -v ON_ERROR_STOP=1 -f plpgsql_peer.sql ; then plpgsql_peer.populate(N).
-- Users are md5('u' || n)::uuid, as in bench/number_wallet_purchase.pgbench.
DROP SCHEMA IF EXISTS plpgsql_peer CASCADE;
CREATE SCHEMA plpgsql_peer;

CREATE TABLE plpgsql_peer.wallets (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL UNIQUE,
  balance_usd numeric(14,2) NOT NULL DEFAULT 0 CHECK (balance_usd >= 0),
  balance_inr numeric(14,2) NOT NULL DEFAULT 0 CHECK (balance_inr >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plpgsql_peer.business_numbers (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id              uuid NOT NULL,
  phone_number         text NOT NULL,
  display_name         text,
  twilio_sid           text UNIQUE,
  status               text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'active', 'failed', 'released')),
  monthly_cost         numeric(14,2) NOT NULL CHECK (monthly_cost > 0),
  currency             text NOT NULL CHECK (currency IN ('USD', 'INR')),
  purchase_date        timestamptz,
  paid_until           timestamptz,
  refund_window_days   integer,
  released_at          timestamptz,
  provider_released_at timestamptz,
  renewal_attempted_at timestamptz,
  idempotency_key      text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ON plpgsql_peer.business_numbers (phone_number)
  WHERE status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL);
CREATE UNIQUE INDEX ON plpgsql_peer.business_numbers (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ON plpgsql_peer.business_numbers (user_id, created_at);
CREATE INDEX ON plpgsql_peer.business_numbers (renewal_attempted_at, paid_until) WHERE status = 'active';
CREATE INDEX ON plpgsql_peer.business_numbers (created_at)
  WHERE status = 'pending' OR (status = 'released' AND provider_released_at IS NULL);

CREATE TABLE plpgsql_peer.transactions (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  wallet_id     uuid NOT NULL,
  user_id       uuid NOT NULL,
  type          text NOT NULL CHECK (type IN ('CREDIT', 'DEBIT')),
  kind          text NOT NULL,
  amount        numeric(14,2) NOT NULL CHECK (amount > 0),
  currency      text NOT NULL CHECK (currency IN ('USD', 'INR')),
  balance_after numeric(14,2) NOT NULL,
  description   text NOT NULL,
  number_id     uuid,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ON plpgsql_peer.transactions (number_id, kind) WHERE kind IN ('purchase', 'reversal', 'refund');
CREATE INDEX ON plpgsql_peer.transactions (user_id, id);

CREATE FUNCTION plpgsql_peer.purchase_number(p_user_id uuid, p_phone_number text, p_monthly_cost numeric,
                                             p_currency text DEFAULT 'USD', p_display_name text DEFAULT NULL,
                                             p_idempotency_key text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_wallet  plpgsql_peer.wallets;
  v_balance numeric;
  v_limit   int := coalesce(nullif(current_setting('plpgsql_peer.max_purchases_per_hour', true), ''), '0')::int;
  v_prior   record;
  v_recent  bigint;
  v_number  uuid;
  v_tx      bigint;
BEGIN
  SELECT * INTO v_wallet FROM plpgsql_peer.wallets WHERE user_id = p_user_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'insufficient balance' USING ERRCODE = 'P0001', DETAIL = 'The user has no wallet yet.';
  END IF;

  IF p_idempotency_key IS NOT NULL THEN
    SELECT n.id, n.phone_number, n.currency, n.status, t.id AS tx, t.amount, t.balance_after INTO v_prior
      FROM plpgsql_peer.business_numbers n
      JOIN plpgsql_peer.transactions t ON t.number_id = n.id AND t.kind = 'purchase'
     WHERE n.user_id = p_user_id AND n.idempotency_key = p_idempotency_key;
    IF FOUND THEN
      IF v_prior.phone_number <> p_phone_number OR v_prior.currency <> p_currency THEN
        RAISE EXCEPTION 'idempotency key was already used with other parameters' USING ERRCODE = 'P0006';
      END IF;
      RETURN jsonb_build_object('number_id', v_prior.id, 'phone_number', v_prior.phone_number,
                                'status', v_prior.status, 'amount', v_prior.amount::text,
                                'currency', v_prior.currency, 'balance_after', v_prior.balance_after::text,
                                'transaction_id', v_prior.tx, 'replayed', true);
    END IF;
  END IF;

  IF v_limit > 0 THEN
    SELECT count(*) INTO v_recent FROM plpgsql_peer.business_numbers
     WHERE user_id = p_user_id AND created_at > now() - interval '1 hour';
    IF v_recent >= v_limit THEN
      RAISE EXCEPTION 'purchase rate limit exceeded' USING ERRCODE = 'P0005';
    END IF;
  END IF;

  v_balance := CASE WHEN p_currency = 'USD' THEN v_wallet.balance_usd ELSE v_wallet.balance_inr END;
  IF EXISTS (SELECT 1 FROM plpgsql_peer.business_numbers
              WHERE phone_number = p_phone_number
                AND (status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL))) THEN
    RAISE EXCEPTION 'phone number % is already held', p_phone_number USING ERRCODE = 'P0002';
  END IF;
  IF v_balance < p_monthly_cost THEN
    RAISE EXCEPTION 'insufficient balance' USING ERRCODE = 'P0001';
  END IF;

  INSERT INTO plpgsql_peer.business_numbers (user_id, phone_number, display_name, monthly_cost, currency, idempotency_key)
  VALUES (p_user_id, p_phone_number, p_display_name, p_monthly_cost, p_currency, p_idempotency_key)
  RETURNING id INTO v_number;

  IF p_currency = 'USD' THEN
    UPDATE plpgsql_peer.wallets SET balance_usd = balance_usd - p_monthly_cost, updated_at = now()
     WHERE id = v_wallet.id RETURNING balance_usd INTO v_balance;
  ELSE
    UPDATE plpgsql_peer.wallets SET balance_inr = balance_inr - p_monthly_cost, updated_at = now()
     WHERE id = v_wallet.id RETURNING balance_inr INTO v_balance;
  END IF;
  INSERT INTO plpgsql_peer.transactions (wallet_id, user_id, type, kind, amount, currency, balance_after,
                                         description, number_id)
  VALUES (v_wallet.id, p_user_id, 'DEBIT', 'purchase', p_monthly_cost, p_currency, v_balance,
          'Phone number purchase: ' || p_phone_number, v_number)
  RETURNING id INTO v_tx;

  RETURN jsonb_build_object('number_id', v_number, 'phone_number', p_phone_number, 'status', 'pending',
                            'amount', p_monthly_cost::text, 'currency', p_currency,
                            'balance_after', v_balance::text, 'transaction_id', v_tx, 'replayed', false);
END $$;

CREATE FUNCTION plpgsql_peer.confirm_purchase(p_number_id uuid, p_twilio_sid text, p_refund_window_days int DEFAULT 7)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_row plpgsql_peer.business_numbers;
BEGIN
  UPDATE plpgsql_peer.business_numbers
     SET status = 'active', twilio_sid = p_twilio_sid, purchase_date = now(),
         paid_until = ((now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC',
         refund_window_days = p_refund_window_days, updated_at = now()
   WHERE id = p_number_id AND status = 'pending'
  RETURNING * INTO v_row;
  IF FOUND THEN
    RETURN jsonb_build_object('number_id', v_row.id, 'status', 'active', 'twilio_sid', p_twilio_sid,
                              'purchase_date', v_row.purchase_date, 'paid_until', v_row.paid_until,
                              'replayed', false);
  END IF;
  SELECT * INTO v_row FROM plpgsql_peer.business_numbers WHERE id = p_number_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'number not found' USING ERRCODE = 'P0003';
  END IF;
  IF v_row.status <> 'active' OR v_row.twilio_sid IS DISTINCT FROM p_twilio_sid THEN
    RAISE EXCEPTION 'cannot confirm a number in state "%"', v_row.status USING ERRCODE = 'P0004';
  END IF;
  RETURN jsonb_build_object('number_id', v_row.id, 'status', 'active', 'twilio_sid', p_twilio_sid,
                            'purchase_date', v_row.purchase_date, 'paid_until', v_row.paid_until,
                            'replayed', true);
END $$;

-- N users, each with a wallet holding enough for every purchase a benchmark makes.
CREATE FUNCTION plpgsql_peer.populate(n int, balance numeric DEFAULT 1000000)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO plpgsql_peer.wallets (user_id, balance_usd)
  SELECT md5('u' || g)::uuid, balance FROM generate_series(1, n) g;
$$;

CREATE SEQUENCE plpgsql_peer.phone_seq;
