// Reading a route's own input (its JSON body, its query parameters) into
// values, each answering the contract's 400 INVALID_REQUEST when it is wrong.
// Used by the user routes (routes.cpp) and the operator routes (admin_routes.cpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http/reply.hpp"

namespace nw::http {

// Parses a JSON object body into *body; unknown fields are ignored.
std::optional<Reply> ParseBody(const httplib::Request &req, nlohmann::json *body);

// A field that is absent or null leaves *out empty; any other non-string is 400.
std::optional<Reply> OptionalString(const nlohmann::json &body, const char *field, std::optional<std::string> *out);

// True for 1 to max ASCII digits (no sign, no spaces).
bool IsDigits(const std::string &text, std::size_t max);

// The `limit` query parameter: `fallback` when absent, else an integer 1..max.
std::optional<Reply> LimitParam(const httplib::Request &req, int fallback, int max, int *out);

}  // namespace nw::http
