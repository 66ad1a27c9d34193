// See numbers.hpp.
#include "numbers.hpp"

#include "ledger.hpp"

namespace nw {

#define NUMBER_COLUMNS                                                                                                 \
    "id, user_id, status, currency, phone_number, twilio_sid, monthly_cost, purchase_date, paid_until, "               \
    "refund_window_days, provider_released_at, released_at"

// NUMBER_COLUMNS by name, in their order (SPI counts from 1).
enum NumberColumn {
    kId = 1,
    kUserId,
    kStatus,
    kCurrency,
    kPhoneNumber,
    kTwilioSid,
    kMonthlyCost,
    kPurchaseDate,
    kPaidUntil,
    kRefundWindowDays,
    kProviderReleasedAt,
    kReleasedAt,
};

static Statement read_number = {
    "SELECT " NUMBER_COLUMNS " FROM number_wallet.business_numbers WHERE id = $1", 1, {UUIDOID}, nullptr};

static Statement lock_number = {
    "SELECT " NUMBER_COLUMNS " FROM number_wallet.business_numbers WHERE id = $1 FOR UPDATE", 1, {UUIDOID}, nullptr};

static NumberRow ReadRow(void)
{
    NumberRow row;
    memset(&row, 0, sizeof row);
    if (SPI_processed == 0)
        return row;
    row.found = true;
    memcpy(&row.id, DatumGetUUIDP(ResultDatum(0, kId)), sizeof row.id);
    memcpy(&row.user_id, DatumGetUUIDP(ResultDatum(0, kUserId)), sizeof row.user_id);
    snprintf(row.status, sizeof row.status, "%s", ResultText(0, kStatus));
    snprintf(row.currency, sizeof row.currency, "%s", ResultText(0, kCurrency));
    row.phone_number = ResultText(0, kPhoneNumber);
    row.twilio_sid = ResultText(0, kTwilioSid);
    row.monthly_cost = ResultDatum(0, kMonthlyCost);
    row.has_purchase_date = !ResultIsNull(0, kPurchaseDate);
    if (row.has_purchase_date)
        row.purchase_date = DatumGetTimestampTz(ResultDatum(0, kPurchaseDate));
    row.has_paid_until = !ResultIsNull(0, kPaidUntil);
    if (row.has_paid_until)
        row.paid_until = DatumGetTimestampTz(ResultDatum(0, kPaidUntil));
    row.refund_window_days = ResultIsNull(0, kRefundWindowDays) ? -1 : DatumGetInt32(ResultDatum(0, kRefundWindowDays));
    row.provider_released = !ResultIsNull(0, kProviderReleasedAt);
    if (row.provider_released)
        row.provider_released_at = DatumGetTimestampTz(ResultDatum(0, kProviderReleasedAt));
    if (!ResultIsNull(0, kReleasedAt))
        row.released_at = DatumGetTimestampTz(ResultDatum(0, kReleasedAt));
    return row;
}

NumberRow ReadNumber(const pg_uuid_t *number_id, bool read_only)
{
    Datum values[1] = {UUIDPGetDatum(number_id)};
    Execute(&read_number, values, nullptr, read_only, 1, SPI_OK_SELECT);
    return ReadRow();
}

NumberRow LockNumber(const pg_uuid_t *number_id)
{
    Datum values[1] = {UUIDPGetDatum(number_id)};
    Execute(&lock_number, values, nullptr, false, 1, SPI_OK_SELECT);
    return ReadRow();
}

char *UuidText(const pg_uuid_t *id)
{
    return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));
}

bool StatusIs(const NumberRow &row, const char *status)
{
    return strcmp(row.status, status) == 0;
}

void RaiseNumberNotFound(void)
{
    ereport(ERROR, (errcode(NW_NOT_FOUND), errmsg("number not found")));
}

// An imported number (import_seed) was paid in the seed deployment: it has no
// purchase entry, and its monthly cost, in its currency, stands for one.
// Only asked when the purchase entry is missing (imported_at is 1.3's).
static Statement imported_number = {
    "SELECT imported_at IS NOT NULL FROM number_wallet.business_numbers WHERE id = $1", 1, {UUIDOID}, nullptr};

NumberEntry PurchaseEntryOf(const pg_uuid_t *number_id, const NumberRow &row, bool read_only)
{
    NumberEntry purchase = FindNumberEntry(number_id, "purchase", read_only);
    if (purchase.found)
        return purchase;
    Datum id_value = UUIDPGetDatum(number_id);
    Execute(&imported_number, &id_value, nullptr, read_only, 1, SPI_OK_SELECT);
    if (SPI_processed == 1 && DatumGetBool(ResultDatum(0, 1))) {
        purchase.found = true;
        purchase.amount = row.monthly_cost;
        snprintf(purchase.currency, sizeof purchase.currency, "%s", row.currency);
    }
    return purchase;
}

}  // namespace nw
