// The jsonb answers of the SQL functions, built as text and parsed once at the end.
#include "pg/json_result.hpp"

extern "C" {
#include "utils/json.h"
}

#include "pg/times.hpp"

namespace nw {

void JsonBegin(JsonObject *json)
{
    initStringInfo(&json->buf);
    appendStringInfoChar(&json->buf, '{');
    json->first = true;
}

static void JsonKey(JsonObject *json, const char *key)
{
    if (!json->first)
        appendStringInfoString(&json->buf, ", ");
    json->first = false;
    escape_json(&json->buf, key);
    appendStringInfoString(&json->buf, ": ");
}

void JsonText(JsonObject *json, const char *key, const char *value)
{
    JsonKey(json, key);
    if (value == nullptr)
        appendStringInfoString(&json->buf, "null");
    else
        escape_json(&json->buf, value);
}

void JsonBool(JsonObject *json, const char *key, bool value)
{
    JsonKey(json, key);
    appendStringInfoString(&json->buf, value ? "true" : "false");
}

void JsonInt(JsonObject *json, const char *key, int64 value)
{
    JsonKey(json, key);
    appendStringInfo(&json->buf, INT64_FORMAT, value);
}

void JsonNull(JsonObject *json, const char *key)
{
    JsonKey(json, key);
    appendStringInfoString(&json->buf, "null");
}

void JsonTimestamp(JsonObject *json, const char *key, Datum timestamptz, bool isnull)
{
    if (isnull) {
        JsonNull(json, key);
        return;
    }
    char text[64];
    FormatTimestampUtc(DatumGetTimestampTz(timestamptz), text, sizeof text);
    JsonText(json, key, text);
}

void JsonRaw(JsonObject *json, const char *key, const char *raw_json)
{
    JsonKey(json, key);
    appendStringInfoString(&json->buf, raw_json);
}

char *JsonEnd(JsonObject *json)
{
    appendStringInfoChar(&json->buf, '}');
    return json->buf.data;
}

Datum JsonbFromText(const char *text)
{
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

Datum FinishJson(JsonObject *json)
{
    SPI_finish();
    return JsonbFromText(JsonEnd(json));
}

}  // namespace nw
