// Claim rules of docs/http-api.md "Authentication", applied after the signature is verified.
//
// Service tokens: signed with the HS256 legacy secret and `role: service_role`
// (Supabase's service key: no sub, no aud, iss "supabase"). A service_role
// claim in any other token gains nothing: it is refused outright, so a JWKS
// key holder cannot mint admin access and no such token passes as a user.
// User tokens: aud is or contains "authenticated", sub is a UUID, and iss is
// "<SUPABASE_URL>/auth/v1" when SUPABASE_URL is configured.
#include <cmath>
#include <limits>

#include "auth/internal.hpp"
#include "core/validation.hpp"

namespace nw::auth::detail {
namespace {

constexpr const char *kServiceRole = "service_role";
constexpr const char *kUserAudience = "authenticated";
constexpr const char *kLegacyIssuer = "supabase";
// RFC 5321's limit on a forward path; longer is not an address.
constexpr std::size_t kMaxEmailBytes = 254;

bool is_hex(char c) noexcept
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Reads a NumericDate claim. Absent: nullopt with ok = true. Present but not a
// finite JSON number (a string, a bool, 1e999): ok = false.
std::optional<double> numeric_date(const nlohmann::json &payload, const char *name, bool &ok)
{
    ok = true;
    const auto it = payload.find(name);
    if (it == payload.end())
        return std::nullopt;
    if (!it->is_number()) {
        ok = false;
        return std::nullopt;
    }
    const double value = it->get<double>();
    if (!std::isfinite(value)) {
        ok = false;
        return std::nullopt;
    }
    return value;
}

// On success, *exp_out is the token's exp.
Failure check_times(const nlohmann::json &payload, const ClaimRules &rules, double *exp_out)
{
    bool ok = true;
    const auto now = static_cast<double>(rules.now);
    const auto leeway = static_cast<double>(rules.leeway);

    const auto exp = numeric_date(payload, "exp", ok);
    if (!ok)
        return Failure::BadClaims;
    if (!exp)
        return Failure::MissingExpiry;  // libraries often skip a missing exp; we require it
    // RFC 7519 §4.1.4: not accepted on or after exp (plus leeway).
    if (now >= *exp + leeway)
        return Failure::Expired;
    *exp_out = *exp;

    const auto nbf = numeric_date(payload, "nbf", ok);
    if (!ok)
        return Failure::BadClaims;
    if (nbf && now + leeway < *nbf)
        return Failure::NotYetValid;

    const auto iat = numeric_date(payload, "iat", ok);
    if (!ok)
        return Failure::BadClaims;
    if (iat && *iat > now + leeway)
        return Failure::IssuedInFuture;
    return Failure::None;
}

bool audience_ok(const nlohmann::json &payload)
{
    const auto aud = payload.find("aud");
    if (aud == payload.end())
        return false;
    if (aud->is_string())
        return *aud == kUserAudience;
    if (aud->is_array()) {
        for (const auto &entry : *aud)
            if (entry == kUserAudience)
                return true;
    }
    return false;
}

// iss of a service token: absent, "supabase" (legacy service key), or the
// configured project issuer.
bool service_issuer_ok(const nlohmann::json &payload, const ClaimRules &rules)
{
    const auto iss = payload.find("iss");
    if (iss == payload.end())
        return true;
    if (!iss->is_string())
        return false;
    return *iss == kLegacyIssuer || (!rules.expected_issuer.empty() && *iss == rules.expected_issuer);
}

// app_metadata.number_wallet_operator, strictly a JSON true.
bool operator_flag(const nlohmann::json &payload)
{
    const auto meta = payload.find("app_metadata");
    if (meta == payload.end() || !meta->is_object())
        return false;
    const auto flag = meta->find("number_wallet_operator");
    return flag != meta->end() && flag->is_boolean() && flag->get<bool>();
}

// The email claim when it can be recorded as part of an actor, else "".
std::string usable_email(const nlohmann::json &payload)
{
    const auto it = payload.find("email");
    if (it == payload.end() || !it->is_string())
        return "";
    const std::string &email = it->get_ref<const std::string &>();
    if (email.empty() || email.size() > kMaxEmailBytes || !IsAuditActor(email))
        return "";
    return email;
}

}  // namespace

std::optional<std::string> canonical_uuid(std::string_view text)
{
    if (text.size() != 36)
        return std::nullopt;
    std::string out(text);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position ? out[i] != '-' : !is_hex(out[i]))
            return std::nullopt;
        if (out[i] >= 'A' && out[i] <= 'F')
            out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
    return out;
}

// First unix second at which check_times refuses the token: now >= exp + leeway.
std::int64_t accept_until(double exp, const ClaimRules &rules)
{
    const double limit = std::ceil(exp + static_cast<double>(rules.leeway));
    if (limit >= 9.0e18)
        return std::numeric_limits<std::int64_t>::max();
    if (limit <= -9.0e18)
        return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(limit);
}

AuthResult evaluate_claims(const nlohmann::json &payload, bool legacy_secret, const ClaimRules &rules)
{
    double exp = 0;
    if (const Failure f = check_times(payload, rules, &exp); f != Failure::None)
        return AuthResult::fail(f);
    const std::int64_t until = accept_until(exp, rules);

    std::string role;
    if (const auto it = payload.find("role"); it != payload.end()) {
        if (!it->is_string())
            return AuthResult::fail(Failure::BadClaims);
        role = it->get<std::string>();
    }

    if (role == kServiceRole) {
        if (!legacy_secret)
            return AuthResult::fail(Failure::RoleNotAllowed);
        if (!service_issuer_ok(payload, rules))
            return AuthResult::fail(Failure::BadIssuer);
        Principal p;
        p.kind = Principal::Kind::Service;
        p.role = role;
        p.accept_until = until;
        return AuthResult::success(std::move(p));
    }

    if (!audience_ok(payload))
        return AuthResult::fail(Failure::BadAudience);
    if (!rules.expected_issuer.empty()) {
        const auto iss = payload.find("iss");
        if (iss == payload.end() || *iss != rules.expected_issuer)
            return AuthResult::fail(Failure::BadIssuer);
    }
    const auto sub = payload.find("sub");
    if (sub == payload.end() || !sub->is_string())
        return AuthResult::fail(Failure::BadSubject);
    auto user_id = canonical_uuid(sub->get_ref<const std::string &>());
    if (!user_id)
        return AuthResult::fail(Failure::BadSubject);

    bool anonymous = false;
    if (const auto it = payload.find("is_anonymous"); it != payload.end() && !it->is_null()) {
        if (!it->is_boolean())
            return AuthResult::fail(Failure::BadClaims);
        anonymous = it->get<bool>();
    }

    Principal p;
    p.kind = Principal::Kind::User;
    p.user_id = std::move(*user_id);
    p.anonymous = anonymous;
    p.role = std::move(role);
    p.accept_until = until;
    p.is_operator = !anonymous && operator_flag(payload);
    p.email = usable_email(payload);
    return AuthResult::success(std::move(p));
}

}  // namespace nw::auth::detail

namespace nw::auth {

bool OperatorClaim(const std::string &payload_json)
{
    const auto payload = nlohmann::json::parse(payload_json, nullptr, false);
    return !payload.is_discarded() && payload.is_object() && detail::operator_flag(payload);
}

std::string ActorOf(const Principal &principal)
{
    if (principal.is_service())
        return principal.admin_key ? "admin-key" : "service";
    if (principal.email.empty())
        return principal.user_id;
    return principal.user_id + " (" + principal.email + ")";
}

}  // namespace nw::auth
