// The jsonb answers of the SQL functions, built as text and parsed once at the end.
#pragma once

#include "pg/postgres.hpp"

namespace nw {

// Builds a jsonb object as text in the caller's memory context, so it survives
// SPI_finish; Finish() parses it into jsonb.
struct JsonObject {
    StringInfoData buf;
    bool first;
};
void JsonBegin(JsonObject *json);
void JsonText(JsonObject *json, const char *key, const char *value);  // nullptr -> null
void JsonBool(JsonObject *json, const char *key, bool value);
void JsonInt(JsonObject *json, const char *key, int64 value);
void JsonNull(JsonObject *json, const char *key);
void JsonTimestamp(JsonObject *json, const char *key, Datum timestamptz, bool isnull);
void JsonRaw(JsonObject *json, const char *key, const char *raw_json);
char *JsonEnd(JsonObject *json);  // returns the text
Datum JsonbFromText(const char *text);
// SPI_finish, then the jsonb of the object: the usual end of a function.
Datum FinishJson(JsonObject *json);

}  // namespace nw
