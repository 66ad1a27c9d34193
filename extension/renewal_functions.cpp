// renew_due_numbers (docs/sql-api.md): the monthly charge of active numbers.
//
// The only function that locks several wallets in one transaction: it takes
// them in ascending id order with SKIP LOCKED, so it never waits on (or
// deadlocks with) a purchase or release; a skipped wallet waits for the next pass.
//
// Fairness ("Renewal fairness"): a pass first picks the due numbers, across
// all wallets, in the pass order — numbers not tried since they fell due
// first (oldest paid_until first), then numbers left unpaid at least an hour
// ago (least recently tried first) — and only then locks their wallets. A
// number left unpaid carries renewal_attempted_at, so it is not picked again
// within the hour and queues behind every number not tried yet: a backlog of
// unpaid numbers cannot take the places of numbers that could be charged. The
// grace rule releases only a number an earlier pass already tried in its
// current period, so nobody loses a number in the very pass that first asks
// for the money.
//
// Memory: every number is renewed inside its own SPI connection, so its
// result sets and conversions are freed before the next number; a pass over
// 100000 numbers holds only the list of candidates (36 bytes each) and of
// their wallets.
#include "caller.hpp"
#include "ledger.hpp"
#include "numbers.hpp"
#include "settings.hpp"

extern "C" {
#include "utils/array.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(nw_renew_due_numbers);
}

namespace nw {

// Due: active, paid period over, and not known to be gone at the provider.
#define DUE_PREDICATE                                                                                                  \
    "n.status = 'active' AND n.paid_until <= $1 AND NOT EXISTS ("                                                      \
    "  SELECT 1 FROM number_wallet.discrepancies d WHERE d.number_id = n.id"                                           \
    "     AND d.kind = 'missing_at_provider' AND d.resolved_at IS NULL)"

// Both candidate queries walk business_numbers_renewal, (renewal_attempted_at,
// paid_until) over active numbers, in its order: no sort, and no visit to
// numbers that are not due.
static Statement due_untried = {"SELECT n.id, n.user_id FROM number_wallet.business_numbers n"
                                " WHERE n.renewal_attempted_at IS NULL AND " DUE_PREDICATE
                                " ORDER BY n.renewal_attempted_at, n.paid_until LIMIT $2",
                                2,
                                {TIMESTAMPTZOID, INT4OID},
                                nullptr};

static Statement due_retry = {"SELECT n.id, n.user_id FROM number_wallet.business_numbers n"
                              " WHERE n.renewal_attempted_at <= $3 AND " DUE_PREDICATE
                              " ORDER BY n.renewal_attempted_at, n.paid_until LIMIT $2",
                              3,
                              {TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID},
                              nullptr};

// due_untried's and due_retry's columns, in their order (SPI counts from 1).
enum CandidateColumn { kCandidateNumberId = 1, kCandidateUserId };

// The wallets of the candidates, locked in ascending id order (docs/architecture.md "Lock order").
static Statement lock_wallets = {"SELECT w.id, w.user_id FROM number_wallet.wallets w WHERE w.user_id = ANY ($1)"
                                 " ORDER BY w.id FOR UPDATE OF w SKIP LOCKED",
                                 1,
                                 {UUIDARRAYOID},
                                 nullptr};

// lock_wallets' columns, in its order.
enum LockedOwnerColumn { kOwnerWalletId = 1, kOwnerUserId };

// lock_number's columns, in its order (SPI counts from 1).
enum LockedNumberColumn { kStatus = 1, kPaidUntil, kRenewalAttemptedAt, kCurrency, kMonthlyCost, kPhoneNumber };

static Statement lock_number = {"SELECT status, paid_until, renewal_attempted_at, currency, monthly_cost, phone_number"
                                "  FROM number_wallet.business_numbers WHERE id = $1 FOR UPDATE",
                                1,
                                {UUIDOID},
                                nullptr};

// Billing periods (docs/sql-api.md) are computed in UTC, whatever the session's
// TimeZone, and anchored to the purchase: period n ends at purchase_date + n
// months, so a number bought on Jan 31 is paid until Feb 28 (29), Mar 31,
// Apr 30, May 31 — never drifting to the 28th. The period paid_until closes is
// the number of whole calendar months from the purchase to it, in UTC; the
// next one closes a month later, on the anchor's day. A paid_until off the
// anchor (an older version added months in the session's zone and drifted)
// lands back on it, in the calendar month after the old paid_until; none ends
// before the first period's end.
#define UTC_MONTHS_BETWEEN(a, b)                                                                                       \
    "((extract(year FROM " b " AT TIME ZONE 'UTC') - extract(year FROM " a " AT TIME ZONE 'UTC')) * 12"                \
    " + extract(month FROM " b " AT TIME ZONE 'UTC') - extract(month FROM " a " AT TIME ZONE 'UTC'))::int"

static Statement extend_number = {
    "UPDATE number_wallet.business_numbers"
    "   SET paid_until = ((purchase_date AT TIME ZONE 'UTC') + make_interval(months => greatest("
    "                       " UTC_MONTHS_BETWEEN(
        "purchase_date", "paid_until") " + 1, 1)))"
                                       "                    AT TIME ZONE 'UTC',"
                                       "       renewal_unpaid_since = NULL, renewal_attempted_at = NULL, updated_at = "
                                       "statement_timestamp()"
                                       " WHERE id = $1 RETURNING paid_until",
    1,
    {UUIDOID},
    nullptr};

static Statement mark_unpaid = {
    "UPDATE number_wallet.business_numbers"
    "   SET renewal_unpaid_since = coalesce(renewal_unpaid_since, $2), renewal_attempted_at = $2,"
    "       updated_at = statement_timestamp()"
    " WHERE id = $1",
    2,
    {UUIDOID, TIMESTAMPTZOID},
    nullptr};

static Statement release_unpaid = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'released', released_at = statement_timestamp(), updated_at = statement_timestamp(),"
    "       notes = concat_ws(E'\\n', notes, 'Released: renewal unpaid after the grace period.')"
    " WHERE id = $1",
    1,
    {UUIDOID},
    nullptr};

// The tables of the version the database runs. A new library serves older
// versions' functions until ALTER EXTENSION ... UPDATE, but this one needs 1.2's
// renewal_attempted_at: say so instead of failing on a missing column.
static Statement extension_version = {
    "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'number_wallet'", 0, {}, nullptr};

static void RequireVersion12(void)
{
    Execute(&extension_version, nullptr, nullptr, true, 1, SPI_OK_SELECT);
    const char *version = SPI_processed == 1 ? ResultText(0, 1) : nullptr;
    if (version != nullptr && (strcmp(version, "1.0") == 0 || strcmp(version, "1.1") == 0))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("renew_due_numbers needs version 1.2 of extension number_wallet"),
                        errdetail("This database runs version %s of the extension.", version),
                        errhint("Run ALTER EXTENSION number_wallet UPDATE.")));
}

// A due number picked for this pass. `rank` is its place in the pass order.
struct Candidate {
    pg_uuid_t number_id;
    pg_uuid_t user_id;
    int rank;
};

struct LockedOwner {
    pg_uuid_t wallet_id;
    pg_uuid_t user_id;
};

enum class RenewResult { kRenewed, kUnpaid, kReleased, kSkipped };

static int CompareUuid(const pg_uuid_t *a, const pg_uuid_t *b)
{
    return memcmp(a->data, b->data, UUID_LEN);
}

// Candidates grouped by owner, each owner's in pass order.
static int CompareCandidates(const void *a, const void *b)
{
    const Candidate *x = static_cast<const Candidate *>(a);
    const Candidate *y = static_cast<const Candidate *>(b);
    const int by_user = CompareUuid(&x->user_id, &y->user_id);
    if (by_user != 0)
        return by_user;
    return x->rank < y->rank ? -1 : (x->rank > y->rank ? 1 : 0);
}

// Appends the rows of the last candidate query to *list (grown with repalloc,
// so it stays in the context it was first allocated in) and frees the rows.
static int TakeCandidates(Candidate **list, int count)
{
    const int rows = (int) SPI_processed;
    if (rows > 0) {
        const Size size = sizeof(Candidate) * (count + rows);
        *list = static_cast<Candidate *>(*list == nullptr ? SPI_palloc(size) : repalloc(*list, size));
    }
    Candidate *out = *list;
    for (int i = 0; i < rows; ++i) {
        memcpy(&out[count].number_id, DatumGetUUIDP(ResultDatum(i, kCandidateNumberId)), sizeof(pg_uuid_t));
        memcpy(&out[count].user_id, DatumGetUUIDP(ResultDatum(i, kCandidateUserId)), sizeof(pg_uuid_t));
        out[count].rank = count;
        ++count;
    }
    SPI_freetuptable(SPI_tuptable);
    return count;
}

// One number of a locked wallet: charge a period, leave it unpaid, or release
// it. Runs inside its own SPI connection (see RenewDueNumbers).
static RenewResult RenewOne(const pg_uuid_t *wallet_id, const pg_uuid_t *number_id, TimestampTz now,
                            TimestampTz retry_before)
{
    Datum id_value = UUIDPGetDatum(number_id);
    Execute(&lock_number, &id_value, nullptr, false, 1, SPI_OK_SELECT);
    if (SPI_processed == 0)
        return RenewResult::kSkipped;
    // Re-check under the lock: a concurrent pass or release may have moved it.
    const char *status = ResultText(0, kStatus);
    if (strcmp(status, "active") != 0 || ResultIsNull(0, kPaidUntil))
        return RenewResult::kSkipped;
    const TimestampTz paid_until = DatumGetTimestampTz(ResultDatum(0, kPaidUntil));
    const bool tried = !ResultIsNull(0, kRenewalAttemptedAt);
    const TimestampTz attempted_at = tried ? DatumGetTimestampTz(ResultDatum(0, kRenewalAttemptedAt)) : 0;
    if (paid_until > now || (tried && attempted_at > retry_before))
        return RenewResult::kSkipped;
    const char *currency = ResultText(0, kCurrency);
    const Datum cost = ResultDatum(0, kMonthlyCost);
    const char *phone_number = ResultText(0, kPhoneNumber);

    const Datum debit = NumericNegate(cost);
    LockedWallet locked = LockWalletById(wallet_id, currency, debit);
    if (!locked.found)
        return RenewResult::kSkipped;
    if (locked.sufficient) {
        char description[128];
        char until[64];
        FormatTimestampUtc(paid_until, until, sizeof until);
        snprintf(description, sizeof description, "Renewal: %s from %s", phone_number, until);
        ApplyToWallet(wallet_id, currency, debit, "renewal", description, number_id, nullptr);
        Execute(&extend_number, &id_value, nullptr, false, 0, SPI_OK_UPDATE_RETURNING);
        return RenewResult::kRenewed;
    }
    // Released only when an earlier pass already asked for this period's money
    // (tried after it fell due) and the grace days are over.
    const int64 grace = (int64) renewal_grace_days * USECS_PER_DAY;
    if (tried && attempted_at >= paid_until && now - paid_until > grace) {
        Execute(&release_unpaid, &id_value, nullptr, false, 0, SPI_OK_UPDATE);
        return RenewResult::kReleased;
    }
    Datum unpaid_values[2] = {id_value, TimestampTzGetDatum(now)};
    Execute(&mark_unpaid, unpaid_values, nullptr, false, 0, SPI_OK_UPDATE);
    return RenewResult::kUnpaid;
}

// renew_due_numbers(p_limit)
//   caller:  the service role (a scheduler), any number of passes at once
//   locks:   the pass's owners' wallets (in user_id order), then each due number in turn
//   writes:  per due number, either a `renewal` debit and paid_until a month on (same UTC anchor), or
//            renewal_attempted_at when funds are short, or, past the grace days, the release
//   answer:  {renewed, unpaid, released}
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
    const TimestampTz retry_before = now - USECS_PER_HOUR;  // an unpaid number is retried at most hourly
    int64 renewed = 0, unpaid = 0, released = 0;

    // 1. The pass's numbers and their owners' wallets, locked. The lists are
    // allocated outside the SPI connection (SPI_palloc) to outlive it.
    SPI_connect();
    RequireVersion12();
    Candidate *candidates = nullptr;
    int ncandidates = 0;
    Datum untried_values[2] = {TimestampTzGetDatum(now), Int32GetDatum(limit)};
    Execute(&due_untried, untried_values, nullptr, false, limit, SPI_OK_SELECT);
    ncandidates = TakeCandidates(&candidates, ncandidates);
    if (ncandidates < limit) {
        Datum retry_values[3] = {TimestampTzGetDatum(now), Int32GetDatum(limit - ncandidates),
                                 TimestampTzGetDatum(retry_before)};
        Execute(&due_retry, retry_values, nullptr, false, limit - ncandidates, SPI_OK_SELECT);
        ncandidates = TakeCandidates(&candidates, ncandidates);
    }
    LockedOwner *owners = nullptr;
    int nowners = 0;
    if (ncandidates > 0) {
        Datum *users = static_cast<Datum *>(palloc(sizeof(Datum) * ncandidates));
        for (int i = 0; i < ncandidates; ++i)
            users[i] = UUIDPGetDatum(&candidates[i].user_id);
        Datum user_array =
            PointerGetDatum(construct_array(users, ncandidates, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
        Execute(&lock_wallets, &user_array, nullptr, false, 0, SPI_OK_SELECT);
        nowners = (int) SPI_processed;
        owners = static_cast<LockedOwner *>(SPI_palloc(sizeof(LockedOwner) * (nowners > 0 ? nowners : 1)));
        for (int i = 0; i < nowners; ++i) {
            memcpy(&owners[i].wallet_id, DatumGetUUIDP(ResultDatum(i, kOwnerWalletId)), sizeof(pg_uuid_t));
            memcpy(&owners[i].user_id, DatumGetUUIDP(ResultDatum(i, kOwnerUserId)), sizeof(pg_uuid_t));
        }
    }
    SPI_finish();  // frees every result set and conversion of step 1; the row locks stay
    if (ncandidates > 1)
        qsort(candidates, ncandidates, sizeof(Candidate), CompareCandidates);

    // 2. Wallet by wallet in lock order, each wallet's numbers in pass order,
    // every number in an SPI connection of its own.
    for (int w = 0; w < nowners; ++w) {
        Candidate key;
        memset(&key, 0, sizeof key);
        key.user_id = owners[w].user_id;
        key.rank = -1;
        int lo = 0, hi = ncandidates;  // first candidate of this owner
        while (lo < hi) {
            const int mid = lo + (hi - lo) / 2;
            if (CompareCandidates(&candidates[mid], &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (int k = lo; k < ncandidates && CompareUuid(&candidates[k].user_id, &owners[w].user_id) == 0; ++k) {
            CHECK_FOR_INTERRUPTS();
            SPI_connect();
            const RenewResult result = RenewOne(&owners[w].wallet_id, &candidates[k].number_id, now, retry_before);
            SPI_finish();
            switch (result) {
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

    char text[160];
    snprintf(text, sizeof text,
             "{\"renewed\": " INT64_FORMAT ", \"unpaid\": " INT64_FORMAT ", \"released\": " INT64_FORMAT "}", renewed,
             unpaid, released);
    return JsonbFromText(text);
}

}  // namespace nw

extern "C" Datum nw_renew_due_numbers(PG_FUNCTION_ARGS)
{
    return nw::RenewDueNumbers(fcinfo);
}
