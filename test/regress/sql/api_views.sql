-- The api_* views the shim reads (1.3): every column it shows, `held` agreeing
-- with the held-number index, pages by the bigint id, and service-only access.
\set gina '''00000000-0000-0000-0000-00000000a1e0'''
SELECT (number_wallet.wallet_credit(:gina, 50))->>'balance' AS credited;

-- One number in each state that matters for `held`.
SELECT nw_bought(:gina, '+14155559300', 8, 'PNa9300000000000000000000000000a0') AS active \gset
SELECT nw_bought(:gina, '+14155559301', 8, 'PNa9300000000000000000000000000a1') AS released \gset
SELECT (number_wallet.release_number(:gina, :'released'))->>'status' AS released_status;
SELECT nw_bought(:gina, '+14155559302', 8, 'PNa9300000000000000000000000000a2') AS deleted \gset
SELECT (number_wallet.release_number(:gina, :'deleted'))->>'status' AS released_status,
       (number_wallet.mark_provider_released(:'deleted'))->>'replayed' AS marked_replayed;
SELECT (number_wallet.purchase_number(:gina, '+14155559303', 8, 'USD'))->>'number_id' AS pending \gset
SELECT (number_wallet.purchase_number(:gina, '+14155559304', 8, 'USD'))->>'number_id' AS failed \gset
SELECT (number_wallet.fail_purchase(:'failed', 'provider refused'))->>'status' AS failed_status;

-- As the HTTP API shows a number: money as text, times as RFC 3339 UTC, held per state.
SELECT phone_number, status, monthly_cost, currency, twilio_sid, provider_released, held, failure_reason,
       purchase_date ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS purchase_date_rfc3339,
       paid_until ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS paid_until_rfc3339
  FROM number_wallet.api_numbers WHERE user_id = :gina ORDER BY phone_number;

-- `held` is exactly the index's predicate: every held number conflicts with a
-- new row for its phone number, and no other does (rolled back: the probe rows go).
BEGIN;
SELECT v.phone_number, v.held,
       nw_try(format('INSERT INTO number_wallet.business_numbers (user_id, phone_number, monthly_cost, currency)'
                     ' VALUES (%L, %L, 1, %L)', :gina, v.phone_number, 'USD')) LIKE '23505%' AS index_refuses
  FROM number_wallet.api_numbers v WHERE v.user_id = :gina AND v.created_at < statement_timestamp()
 ORDER BY v.phone_number;
ROLLBACK;

-- The same for the table itself, row by row (catches a view that drifts from the index).
SELECT count(*) AS disagreements
  FROM number_wallet.api_numbers v JOIN number_wallet.business_numbers n USING (id)
 WHERE v.held IS DISTINCT FROM (n.status IN ('pending', 'active') OR (n.status = 'released' AND n.provider_released_at IS NULL));

-- Wallet balances as money text.
SELECT balance_usd, balance_inr FROM number_wallet.api_wallets WHERE user_id = :gina;

-- The ledger: money as text, created_at in RFC 3339 UTC with microseconds, id a bigint
-- (so "10" sorts above "9": pages resume by the number).
SELECT pg_typeof(id) AS id_type, type, kind, amount, currency, balance_after,
       created_at ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS created_at_rfc3339
  FROM number_wallet.api_transactions WHERE user_id = :gina ORDER BY id;

-- Service role only: an end user reads its rows from the tables, not the views.
CREATE ROLE nw_api_view_user;
SELECT number_wallet.grant_end_user('nw_api_view_user');
SET ROLE nw_api_view_user;
SELECT nw_try('SELECT 1 FROM number_wallet.api_numbers') AS user_numbers,
       nw_try('SELECT 1 FROM number_wallet.api_wallets') AS user_wallets,
       nw_try('SELECT 1 FROM number_wallet.api_transactions') AS user_transactions;
RESET ROLE;
SELECT has_table_privilege('number_wallet_service', 'number_wallet.api_numbers', 'SELECT') AS service_numbers,
       has_table_privilege('number_wallet_service', 'number_wallet.api_transactions', 'SELECT') AS service_ledger,
       has_table_privilege('number_wallet_service', 'number_wallet.api_numbers', 'INSERT') AS service_may_insert;
DROP OWNED BY nw_api_view_user;
DROP ROLE nw_api_view_user;
