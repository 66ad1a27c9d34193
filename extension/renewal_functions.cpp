// renew_due_numbers (DESIGN §2): the monthly charge of active numbers.
//
// The only function that locks several wallets in one transaction: it takes
// them in ascending id order with SKIP LOCKED, so it never waits on (or
// deadlocks with) a purchase or release; a skipped wallet waits for the next pass.
#include "caller.hpp"
#include "ledger.hpp"
#include "numbers.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(nw_renew_due_numbers);
}

namespace nw {

#define DUE_PREDICATE                                                                                   \
    "n.status = 'active' AND n.paid_until <= $1 AND NOT EXISTS ("                                      \
    "  SELECT 1 FROM number_wallet.discrepancies d WHERE d.number_id = n.id"                          \
    "     AND d.kind = 'missing_at_provider' AND d.resolved_at IS NULL)"

static Statement due_wallets = {
    "SELECT w.id, w.user_id FROM number_wallet.wallets w"
    " WHERE w.user_id IN (SELECT n.user_id FROM number_wallet.business_numbers n WHERE " DUE_PREDICATE ")"
    " ORDER BY w.id LIMIT $2 FOR UPDATE OF w SKIP LOCKED",
    2, {TIMESTAMPTZOID, INT4OID}, nullptr};

static Statement due_numbers = {
    "SELECT n.id FROM number_wallet.business_numbers n"
    " WHERE n.user_id = $2 AND " DUE_PREDICATE " ORDER BY n.id LIMIT $3",
    3, {TIMESTAMPTZOID, UUIDOID, INT4OID}, nullptr};

static Statement extend_number = {
    "UPDATE number_wallet.business_numbers"
    "   SET paid_until = paid_until + interval '1 month', renewal_unpaid_since = NULL,"
    "       updated_at = statement_timestamp()"
    " WHERE id = $1 RETURNING paid_until",
    1, {UUIDOID}, nullptr};

static Statement mark_unpaid = {
    "UPDATE number_wallet.business_numbers"
    "   SET renewal_unpaid_since = coalesce(renewal_unpaid_since, statement_timestamp()),"
    "       updated_at = statement_timestamp()"
    " WHERE id = $1",
    1, {UUIDOID}, nullptr};

static Statement release_unpaid = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'released', released_at = statement_timestamp(), updated_at = statement_timestamp(),"
    "       notes = concat_ws(E'\\n', notes, 'Released: renewal unpaid after the grace period.')"
    " WHERE id = $1",
    1, {UUIDOID}, nullptr};

struct WalletToRenew {
    pg_uuid_t id;
    pg_uuid_t user_id;
};

enum class RenewResult { kRenewed, kUnpaid, kReleased, kSkipped };

// One number of a locked wallet: charge a month, leave it unpaid, or release it.
static RenewResult RenewOne(const WalletToRenew &wallet, const pg_uuid_t *number_id, TimestampTz now)
{
    NumberRow row = LockNumber(number_id);
    // Re-check under the lock: a concurrent pass or release may have moved it.
    if (!row.found || !StatusIs(row, "active") || !row.has_paid_until || row.paid_until > now)
        return RenewResult::kSkipped;
    LockedWallet locked = LockWalletById(&wallet.id, row.currency, NumericNegate(row.monthly_cost));
    Datum id_value = UUIDPGetDatum(number_id);
    if (locked.sufficient) {
        char description[128];
        char until[64];
        FormatTimestampUtc(row.paid_until, until, sizeof until);
        snprintf(description, sizeof description, "Renewal: %s from %s", row.phone_number, until);
        ApplyToWallet(&wallet.id, row.currency, NumericNegate(row.monthly_cost), "renewal", description, number_id,
                      nullptr);
        Execute(&extend_number, &id_value, nullptr, false, 0, SPI_OK_UPDATE_RETURNING);
        return RenewResult::kRenewed;
    }
    const int64 grace = (int64) renewal_grace_days * USECS_PER_DAY;
    if (now - row.paid_until > grace) {
        Execute(&release_unpaid, &id_value, nullptr, false, 0, SPI_OK_UPDATE);
        return RenewResult::kReleased;
    }
    Execute(&mark_unpaid, &id_value, nullptr, false, 0, SPI_OK_UPDATE);
    return RenewResult::kUnpaid;
}

static Datum RenewDueNumbers(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "renew_due_numbers");
    if (PG_ARGISNULL(0))
        RaiseInvalid("p_limit must not be null");
    const int32 limit = PG_GETARG_INT32(0);
    if (limit < 1 || limit > 100000)
        RaiseInvalid("p_limit must be between 1 and 100000");
    const TimestampTz now = GetCurrentStatementStartTimestamp();
    int64 renewed = 0, unpaid = 0, released = 0;

    SPI_connect();
    Datum wallet_values[2] = {TimestampTzGetDatum(now), Int32GetDatum(limit)};
    Execute(&due_wallets, wallet_values, nullptr, false, limit, SPI_OK_SELECT);
    const int nwallets = (int) SPI_processed;
    WalletToRenew *wallets = (WalletToRenew *) palloc(sizeof(WalletToRenew) * (nwallets > 0 ? nwallets : 1));
    for (int i = 0; i < nwallets; ++i) {
        memcpy(&wallets[i].id, DatumGetUUIDP(ResultDatum(i, 1)), sizeof(pg_uuid_t));
        memcpy(&wallets[i].user_id, DatumGetUUIDP(ResultDatum(i, 2)), sizeof(pg_uuid_t));
    }

    int budget = limit;  // at most p_limit numbers per call, one period each
    for (int i = 0; i < nwallets && budget > 0; ++i) {
        Datum number_values[3] = {TimestampTzGetDatum(now), UUIDPGetDatum(&wallets[i].user_id),
                                  Int32GetDatum(budget)};
        Execute(&due_numbers, number_values, nullptr, false, budget, SPI_OK_SELECT);
        const int nnumbers = (int) SPI_processed;
        pg_uuid_t *numbers = (pg_uuid_t *) palloc(sizeof(pg_uuid_t) * (nnumbers > 0 ? nnumbers : 1));
        for (int k = 0; k < nnumbers; ++k)
            memcpy(&numbers[k], DatumGetUUIDP(ResultDatum(k, 1)), sizeof(pg_uuid_t));
        for (int k = 0; k < nnumbers && budget > 0; ++k, --budget) {
            switch (RenewOne(wallets[i], &numbers[k], now)) {
            case RenewResult::kRenewed:
                ++renewed;
                break;
            case RenewResult::kUnpaid:
                ++unpaid;
                break;
            case RenewResult::kReleased:
                ++released;
                break;
            case RenewResult::kSkipped:
                break;
            }
        }
    }
    SPI_finish();

    char text[160];
    snprintf(text, sizeof text, "{\"renewed\": " INT64_FORMAT ", \"unpaid\": " INT64_FORMAT ", \"released\": " INT64_FORMAT "}",
             renewed, unpaid, released);
    return JsonbFromText(text);
}

}  // namespace nw

extern "C" Datum nw_renew_due_numbers(PG_FUNCTION_ARGS) { return nw::RenewDueNumbers(fcinfo); }
