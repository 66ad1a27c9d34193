// Splitting a compact JWS and parsing its JSON parts ourselves, before any
// signature check: the algorithm and key must be chosen from configuration
// with the header already understood (RFC 8725 §3.1).
#include <set>

#include "auth/internal.hpp"

namespace nw::auth::detail {
namespace {

constexpr std::size_t kMaxDepth = 32;

// SAX pass that fails on a repeated member name inside one object, or on deep
// nesting. nlohmann's DOM parser would silently keep the last duplicate, while
// another parser (libjwt uses jansson) might read the first: refuse both.
class DuplicateKeyCheck : public nlohmann::json_sax<nlohmann::json> {
public:
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t &) override { return true; }
    bool string(string_t &) override { return true; }
    bool binary(binary_t &) override { return false; }
    bool start_object(std::size_t) override { return push(true); }
    bool key(string_t &name) override { return stack_.back().second.insert(name).second; }
    bool end_object() override { return pop(); }
    bool start_array(std::size_t) override { return push(false); }
    bool end_array() override { return pop(); }
    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override { return false; }

private:
    bool push(bool is_object)
    {
        if (stack_.size() >= kMaxDepth)
            return false;
        stack_.emplace_back(is_object, std::set<std::string>{});
        return true;
    }
    bool pop()
    {
        stack_.pop_back();
        return true;
    }
    std::vector<std::pair<bool, std::set<std::string>>> stack_;
};

}  // namespace

std::optional<nlohmann::json> parse_json_object(std::string_view text)
{
    try {
        DuplicateKeyCheck check;
        if (!nlohmann::json::sax_parse(text.begin(), text.end(), &check))
            return std::nullopt;
        auto value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
        if (value.is_discarded() || !value.is_object())
            return std::nullopt;
        return value;
    } catch (const std::exception &) {
        return std::nullopt;  // parse errors never carry token text out of here
    }
}

std::optional<TokenParts> split_token(std::string_view token)
{
    const std::size_t first = token.find('.');
    if (first == std::string_view::npos)
        return std::nullopt;
    const std::size_t second = token.find('.', first + 1);
    if (second == std::string_view::npos)
        return std::nullopt;
    if (token.find('.', second + 1) != std::string_view::npos)
        return std::nullopt;  // JWE has 5 parts

    const std::string_view header_b64 = token.substr(0, first);
    const std::string_view payload_b64 = token.substr(first + 1, second - first - 1);
    const std::string_view signature_b64 = token.substr(second + 1);
    // An empty signature is what alg "none" produces.
    if (header_b64.empty() || payload_b64.empty() || signature_b64.empty())
        return std::nullopt;

    const auto header_json = base64url_decode(header_b64);
    const auto payload_json = base64url_decode(payload_b64);
    auto signature = base64url_decode(signature_b64);
    if (!header_json || !payload_json || !signature)
        return std::nullopt;

    auto header = parse_json_object(*header_json);
    auto payload = parse_json_object(*payload_json);
    if (!header || !payload)
        return std::nullopt;

    return TokenParts{std::move(*header), std::move(*payload), std::move(*signature)};
}

}  // namespace nw::auth::detail
