-- Row rules of business_numbers and transactions (C triggers, extension/row_rules.cpp)
-- hold even for the owner writing directly, and is_active follows status.
\set zed '''00000000-0000-0000-0000-00000000200d'''
SELECT (number_wallet.wallet_credit(:zed, 5))->>'balance';
SELECT nw_try(format($$INSERT INTO number_wallet.business_numbers (user_id, phone_number, monthly_cost, currency)
                      VALUES (%L, %L, %s, %L)$$, :zed, phone, cost, currency)) AS direct_insert
  FROM (VALUES ('+14155554000', '1', 'EUR'), ('4155554000', '1', 'USD'), ('+14155554000', '0', 'USD'),
               ('+14155554000', '''NaN''', 'USD')) v(phone, cost, currency);
SELECT nw_try(format($$INSERT INTO number_wallet.business_numbers (user_id, phone_number, monthly_cost, currency, status)
                      VALUES (%L, '+14155554001', 1, 'USD', %L)$$, :zed, status)) AS bad_status
  FROM (VALUES ('active'), ('failed'), ('released'), ('gone')) v(status);
-- is_active is derived from status, whatever a writer says.
BEGIN;
INSERT INTO number_wallet.business_numbers (user_id, phone_number, monthly_cost, currency, is_active)
VALUES (:zed, '+14155554002', 1, 'USD', true);
SELECT status, is_active FROM number_wallet.business_numbers WHERE phone_number = '+14155554002';
UPDATE number_wallet.business_numbers SET status = 'active', twilio_sid = 'PN4002', purchase_date = now(),
       paid_until = now() + interval '1 month' WHERE phone_number = '+14155554002';
SELECT status, is_active FROM number_wallet.business_numbers WHERE phone_number = '+14155554002';
UPDATE number_wallet.business_numbers SET is_active = false WHERE phone_number = '+14155554002';
SELECT status, is_active FROM number_wallet.business_numbers WHERE phone_number = '+14155554002';
ROLLBACK;
-- The ledger's rules.
SELECT nw_try(format($$INSERT INTO number_wallet.transactions (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id)
                      SELECT id, user_id, %L, %L, %s, %L, %s, 'x', %s FROM number_wallet.wallets WHERE user_id = %L$$,
                     type, kind, amount, currency, after, number_id, :zed)) AS ledger_rule
  FROM (VALUES ('CREDIT', 'topup', '0', 'USD', '1', 'NULL'),
               ('CREDIT', 'topup', '1', 'GBP', '1', 'NULL'),
               ('CREDIT', 'topup', '1', 'USD', '-1', 'NULL'),
               ('DEBIT', 'topup', '1', 'USD', '1', 'NULL'),
               ('CREDIT', 'bonus', '1', 'USD', '1', 'NULL'),
               ('DEBIT', 'purchase', '1', 'USD', '1', 'NULL'),
               ('CREDIT', 'topup', '1', 'USD', '1', quote_literal(gen_random_uuid()))) v(type, kind, amount, currency, after, number_id);
-- Balances never go negative, even written directly.
SELECT split_part(nw_try(format('UPDATE number_wallet.wallets SET balance_usd = -0.01 WHERE user_id = %L', :zed)), ' | ', 1) AS negative_balance;
SELECT * FROM number_wallet.wallet_reconcile();
