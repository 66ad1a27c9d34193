// One-line JSON logs on stderr. Never pass a token, secret or request body.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nw::log {

// level: "info", "warn", "error". fields are merged into the line.
void Write(const char *level, const std::string &message, const nlohmann::json &fields = nlohmann::json::object());

inline void Info(const std::string &m, const nlohmann::json &f = nlohmann::json::object())
{
    Write("info", m, f);
}
inline void Warn(const std::string &m, const nlohmann::json &f = nlohmann::json::object())
{
    Write("warn", m, f);
}
inline void Error(const std::string &m, const nlohmann::json &f = nlohmann::json::object())
{
    Write("error", m, f);
}

}  // namespace nw::log
