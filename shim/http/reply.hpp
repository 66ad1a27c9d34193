// What a route answers: status, JSON body, extra headers. Error bodies are
// {"error": "<human message>", "code": "<CODE>"} plus route-specific fields.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/pool.hpp"

namespace nw::http {

struct Reply {
    int status = 200;
    nlohmann::json body = nlohmann::json::object();
    std::vector<std::pair<std::string, std::string>> headers;
};

Reply Error(int status, const std::string &code, const std::string &message,
            const nlohmann::json &extra = nlohmann::json::object());

// The SQLSTATE -> HTTP mapping of docs/sql-api.md "Errors" (NW005 adds Retry-After).
Reply FromDbError(const db::Error &error);

// The contract's number object from a row of NW_NUMBER_COLUMNS.
nlohmann::json NumberJson(const std::vector<db::Value> &row);

}  // namespace nw::http
