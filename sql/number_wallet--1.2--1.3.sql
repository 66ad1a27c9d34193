-- number_wallet 1.2 -> 1.3. Each part below is headed by what it adds.
\echo Use "ALTER EXTENSION number_wallet UPDATE TO '1.3'" to load this file. \quit

-- ==== the shim's reads (issue 10) ====
-- The HTTP shim reads numbers, wallets and the ledger only through these
-- views (shim/db/statements.hpp), never through the tables: the regression
-- suite (test/regress/sql/api_views.sql) runs every column they show, and an
-- update that changes a table changes the view beside it. Service role only.

-- A number as the HTTP API shows it (money as text, times in RFC 3339 UTC).
-- `held`: the phone number is taken (pending, active, or released and not yet
-- deleted at the provider). The same predicate is the partial unique index
-- business_numbers_held_phone_number (1.0) and the ON CONFLICT target of
-- purchase_number (HELD_PREDICATE in extension/purchase_functions.cpp), which
-- must repeat the index's text for PostgreSQL to infer it.
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

-- Ledger entries as the HTTP API shows them; `id` stays bigint so that pages
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

-- ==== a rate limit that costs nothing until it bites (issue 15) ====
-- purchase_number counts each user's reservations per clock hour on the wallet
-- row it locks anyway; only when the current and the previous hour together
-- reach number_wallet.max_purchases_per_hour does it count the rolling hour
-- exactly over business_numbers (extension/purchase_functions.cpp).
ALTER TABLE @extschema@.wallets
  ADD COLUMN purchases_hour      timestamptz,
  ADD COLUMN purchases_this_hour integer NOT NULL DEFAULT 0 CHECK (purchases_this_hour >= 0),
  ADD COLUMN purchases_last_hour integer NOT NULL DEFAULT 0 CHECK (purchases_last_hour >= 0);
COMMENT ON COLUMN @extschema@.wallets.purchases_hour IS
  'The clock hour (UTC) that purchases_this_hour counts; kept by purchase_number.';
COMMENT ON COLUMN @extschema@.wallets.purchases_this_hour IS
  'Numbers the user reserved in purchases_hour (an upper bound for the rate limit''s fast path).';
COMMENT ON COLUMN @extschema@.wallets.purchases_last_hour IS
  'Numbers the user reserved in the clock hour before purchases_hour.';

-- Wallets updated from an earlier version start with their last two hours
-- counted, so the limit holds across the update.
WITH hours AS (
  SELECT date_bin('1 hour', statement_timestamp(), timestamptz '2000-01-01 00:00:00+00') AS this_hour
), counts AS (
  SELECT n.user_id,
         count(*) FILTER (WHERE n.created_at >= h.this_hour) AS this_hour,
         count(*) FILTER (WHERE n.created_at < h.this_hour) AS last_hour
    FROM @extschema@.business_numbers n, hours h
   WHERE n.created_at >= h.this_hour - interval '1 hour'
   GROUP BY n.user_id
)
UPDATE @extschema@.wallets w
   SET purchases_hour = h.this_hour, purchases_this_hour = c.this_hour, purchases_last_hour = c.last_hour
  FROM counts c, hours h
 WHERE w.user_id = c.user_id;
