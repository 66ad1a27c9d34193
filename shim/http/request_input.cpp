// See request_input.hpp.
#include "http/request_input.hpp"

namespace nw::http {

using nlohmann::json;

std::optional<Reply> ParseBody(const httplib::Request &req, json *body)
{
    *body = json::parse(req.body, nullptr, false);
    if (body->is_discarded() || !body->is_object())
        return Error(400, "INVALID_REQUEST", "the body must be a JSON object");
    return std::nullopt;
}

std::optional<Reply> OptionalString(const json &body, const char *field, std::optional<std::string> *out)
{
    const auto it = body.find(field);
    if (it == body.end() || it->is_null())
        return std::nullopt;
    if (!it->is_string())
        return Error(400, "INVALID_REQUEST", std::string(field) + " must be a string");
    *out = it->get<std::string>();
    return std::nullopt;
}

bool IsDigits(const std::string &text, std::size_t max)
{
    return !text.empty() && text.size() <= max && text.find_first_not_of("0123456789") == std::string::npos;
}

std::optional<Reply> LimitParam(const httplib::Request &req, int fallback, int max, int *out)
{
    *out = fallback;
    if (!req.has_param("limit"))
        return std::nullopt;
    const std::string v = req.get_param_value("limit");
    // At most 4 digits, so std::stoi cannot throw here.
    if (!IsDigits(v, 4) || std::stoi(v) < 1 || std::stoi(v) > max)
        return Error(400, "INVALID_REQUEST", "limit must be an integer from 1 to " + std::to_string(max));
    *out = std::stoi(v);
    return std::nullopt;
}

}  // namespace nw::http
