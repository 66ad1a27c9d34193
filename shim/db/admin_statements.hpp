// The statements of the operator routes (shim/http/admin_routes.cpp).
//
// An audited action runs as one statement in one transaction: a MATERIALIZED
// CTE first sets number_wallet.actor ($1) and number_wallet.request_id ($2)
// with set_config(..., true) (SET LOCAL: they end with the statement's
// transaction, so a pooled connection never carries them into another
// request), and the action, which reads a row of that CTE, runs after it.
//
// Repeat (db/pool.hpp): adjust_balance always carries an idempotency key (the
// operator's, else one the shim generates), so it is kSafe, as wallet_credit
// is: an operator who repeats a 503 without a key could otherwise adjust
// twice. The other audited actions are kUnsafe: a repeat would answer
// "replayed" with no audit id for the operator's own first run, so after a
// lost connection the operator gets a 503 and reads the number or the audit
// log; sending the action again by hand is then a replay (the SQL contract
// replays them by the number's or the discrepancy's state). Reads are kSafe.
#pragma once

#include "db/statements.hpp"

namespace nw::db::sql {

#define NW_AUDIT_CONTEXT                                                                                               \
    "WITH ctx AS MATERIALIZED (SELECT pg_catalog.set_config('number_wallet.actor', $1, true) AS actor,"                \
    " pg_catalog.set_config('number_wallet.request_id', $2, true) AS request_id) "

inline const Statement kForceFail = {
    "force_fail", NW_AUDIT_CONTEXT "SELECT number_wallet.force_fail($3::uuid, $4)::text FROM ctx", Repeat::kUnsafe};
inline const Statement kForceConfirm = {
    "force_confirm", NW_AUDIT_CONTEXT "SELECT number_wallet.force_confirm($3::uuid, $4, $5)::text FROM ctx",
    Repeat::kUnsafe};
inline const Statement kForceRelease = {
    "force_release", NW_AUDIT_CONTEXT "SELECT number_wallet.force_release($3::uuid, $4::boolean, $5)::text FROM ctx",
    Repeat::kUnsafe};
inline const Statement kAdjustBalance = {
    "adjust_balance",
    NW_AUDIT_CONTEXT "SELECT number_wallet.adjust_balance($3::uuid, $4::numeric, $5, $6, $7)::text FROM ctx",
    Repeat::kSafe};
inline const Statement kResolveDiscrepancy = {
    "resolve_discrepancy", NW_AUDIT_CONTEXT "SELECT number_wallet.resolve_discrepancy($3::bigint, $4)::text FROM ctx",
    Repeat::kUnsafe};

// Numbers for support, newest first: any of phone ($1), user ($2), status ($3).
inline const Statement kAdminNumbers = {
    "admin_numbers",
    "SELECT " NW_NUMBER_COLUMNS ", to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    "  FROM number_wallet.api_numbers n"
    " WHERE ($1::text IS NULL OR n.phone_number = $1) AND ($2::uuid IS NULL OR n.user_id = $2::uuid)"
    "   AND ($3::text IS NULL OR n.status = $3)"
    " ORDER BY n.created_at DESC, n.id DESC LIMIT $4::int",
    Repeat::kSafe};

// The audit log, newest first, keyset-paginated by id ($1: exclusive).
inline const Statement kAuditLog = {
    "audit_log",
    "SELECT a.id::text, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), a.actor, a.action,"
    "       a.number_id::text, a.user_id::text, a.discrepancy_id::text, a.reason, a.request_id, a.detail::text"
    "  FROM number_wallet.audit_log a WHERE ($1::bigint IS NULL OR a.id < $1::bigint)"
    " ORDER BY a.id DESC LIMIT $2::int",
    Repeat::kSafe};

}  // namespace nw::db::sql
