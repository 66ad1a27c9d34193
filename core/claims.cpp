// See claims.hpp.
#include "core/claims.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "core/validation.hpp"
#include "core/cpp_only.hpp"

namespace nw {

std::string ClaimedSubject(std::string_view claims_json)
{
    if (claims_json.empty() || claims_json.size() > 65536)
        return "";
    const nlohmann::json claims = nlohmann::json::parse(claims_json, nullptr, /*allow_exceptions=*/false);
    if (!claims.is_object())
        return "";
    const auto sub = claims.find("sub");
    if (sub == claims.end() || !sub->is_string())
        return "";
    std::string id = sub->get<std::string>();
    for (char &c : id)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return IsUuid(id) ? id : "";
}

}  // namespace nw
