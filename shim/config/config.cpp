// See config.hpp.
#include "config/config.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "auth/auth.hpp"
#include "core/validation.hpp"

namespace nw::config {
namespace {

std::string Trim(const std::string &s)
{
    const auto begin = s.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos)
        return "";
    const auto end = s.find_last_not_of(" \t\r\n");
    return s.substr(begin, end - begin + 1);
}

std::string Env(const char *name, const std::string &fallback = "")
{
    const char *value = std::getenv(name);
    return value ? std::string(value) : fallback;
}

bool EnvBool(const char *name, bool fallback)
{
    const std::string value = Env(name);
    if (value.empty())
        return fallback;
    if (value == "true" || value == "1" || value == "yes")
        return true;
    if (value == "false" || value == "0" || value == "no")
        return false;
    throw std::runtime_error(std::string(name) + " must be true or false");
}

long EnvInt(const char *name, long fallback, long min, long max)
{
    const std::string value = Env(name);
    if (value.empty())
        return fallback;
    std::size_t used = 0;
    long parsed = 0;
    try {
        parsed = std::stol(value, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used != value.size() || parsed < min || parsed > max)
        throw std::runtime_error(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                                 std::to_string(max));
    return parsed;
}

// An unset or empty variable gives the fallback, as for every other variable.
// With allow_none false, a value that lists nothing (" ", ",") is refused.
std::vector<std::string> EnvList(const char *name, const std::vector<std::string> &fallback, bool allow_none = true)
{
    const std::string value = Env(name);
    if (value.empty())
        return fallback;
    std::vector<std::string> items;
    std::stringstream in(value);
    std::string item;
    while (std::getline(in, item, ','))
        if (!Trim(item).empty())
            items.push_back(Trim(item));
    if (items.empty() && !allow_none)
        throw std::runtime_error(std::string(name) + " lists nothing; leave it unset for the default");
    return items;
}

void LoadDotEnv()
{
    std::ifstream file(".env");
    if (!file)
        return;
    std::stringstream text;
    text << file.rdbuf();
    for (const auto &[key, value] : ParseDotEnv(text.str()))
        setenv(key.c_str(), value.c_str(), /*overwrite=*/0);  // the real environment wins
}

std::string Lower(std::string text)
{
    for (auto &c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

struct UrlDeleter {
    void operator()(CURLU *u) const { curl_url_cleanup(u); }
};

// One part of a URL as libcurl parses it (the same parser that connects).
std::string UrlPart(CURLU *url, CURLUPart part)
{
    char *value = nullptr;
    if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr)
        return "";
    std::string out(value);
    curl_free(value);
    return out;
}

bool IsLoopbackHost(const std::string &host)
{
    // libcurl resolves "localhost" to the loopback addresses itself, without DNS.
    if (host == "localhost")
        return true;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        in6_addr v6{};
        return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
    }
    unsigned char v4[4];
    return inet_pton(AF_INET, host.c_str(), v4) == 1 && v4[0] == 127;
}

}  // namespace

bool IsJwksUrl(const std::string &where)
{
    const std::string head = Lower(where.substr(0, 8));
    return head.rfind("https://", 0) == 0 || head.rfind("http://", 0) == 0;
}

std::string CheckJwksUrl(const std::string &url)
{
    std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
    if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
        return "SUPABASE_JWKS is not a valid URL";
    const std::string scheme = Lower(UrlPart(parsed.get(), CURLUPART_SCHEME));
    const std::string host = Lower(UrlPart(parsed.get(), CURLUPART_HOST));
    if (host.empty())
        return "SUPABASE_JWKS has no host";
    if (scheme == "https")
        return "";
    if (scheme == "http") {
        if (IsLoopbackHost(host))
            return "";
        return "SUPABASE_JWKS must be an https URL (plain http is allowed only for a loopback host): "
               "keys fetched in clear could be replaced on the way";
    }
    return "SUPABASE_JWKS must be an https URL or a file";
}

std::vector<std::pair<std::string, std::string>> ParseDotEnv(const std::string &text)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::stringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        line = Trim(line);
        if (line.empty() || line[0] == '#')
            continue;
        if (line.rfind("export ", 0) == 0)
            line = Trim(line.substr(7));
        const auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0)
            continue;
        std::string key = Trim(line.substr(0, eq));
        std::string value = Trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        out.emplace_back(key, value);
    }
    return out;
}

Config Load()
{
    LoadDotEnv();
    Config c;
    c.database_url = Env("DATABASE_URL");
    c.port = static_cast<int>(EnvInt("PORT", 8080, 0, 65535));
    c.bind_address = Env("BIND_ADDRESS", "127.0.0.1");
    c.db_pool_size = static_cast<int>(EnvInt("DATABASE_POOL_SIZE", 32, 1, 512));
    c.db_failover_wait_seconds =
        static_cast<int>(EnvInt("DATABASE_FAILOVER_WAIT_SECONDS", 40, kMinFailoverWaitSeconds, 600));
    c.supabase_jwt_secret = Env("SUPABASE_JWT_SECRET");
    c.supabase_jwks = Env("SUPABASE_JWKS");
    c.supabase_url = Env("SUPABASE_URL");
    c.admin_api_key = Env("ADMIN_API_KEY");
    c.supabase_anon_key = Env("SUPABASE_ANON_KEY");
    c.web_root = Env("WEB_ROOT");
    c.twilio_testing_mode = EnvBool("TWILIO_TESTING_MODE", true);
    c.twilio_account_sid = Env("TWILIO_ACCOUNT_SID");
    c.twilio_auth_token = Env("TWILIO_AUTH_TOKEN");
    c.twilio_api_key = Env("TWILIO_API_KEY");
    c.twilio_api_secret = Env("TWILIO_API_SECRET");
    c.twilio_api_base = Env("TWILIO_API_BASE", "https://api.twilio.com");
    c.twilio_timeout_ms = EnvInt("TWILIO_TIMEOUT_MS", 15000, 100, 60000);
    c.twilio_voice_url = Env("TWILIO_VOICE_URL");
    c.twilio_sms_url = Env("TWILIO_SMS_URL");
    c.number_monthly_price = Env("NUMBER_MONTHLY_PRICE", "1.15");
    const Refusal refusal = ParseAmount(c.number_monthly_price, false, &c.number_monthly_price_cents);
    if (refusal.refused)
        throw std::runtime_error("NUMBER_MONTHLY_PRICE must be a positive amount with at most two decimals");
    c.number_monthly_price = FormatCents(c.number_monthly_price_cents);
    c.number_price_currency = Env("NUMBER_PRICE_CURRENCY", "USD");
    if (!IsCurrency(c.number_price_currency))
        throw std::runtime_error("NUMBER_PRICE_CURRENCY must be USD or INR");
    // A search without `country` uses the first; no country at all sells nothing.
    c.number_countries = EnvList("NUMBER_COUNTRIES", {"US", "CA"}, /*allow_none=*/false);
    for (const auto &country : c.number_countries)
        if (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
            !std::isupper(static_cast<unsigned char>(country[1])))
            throw std::runtime_error("NUMBER_COUNTRIES must be a comma-separated list of ISO country codes");
    c.allow_self_topup = EnvBool("ALLOW_SELF_TOPUP", false);
    c.reconcile_pending_after_seconds = static_cast<int>(EnvInt("RECONCILE_PENDING_AFTER_SECONDS", 300, 0, 86400 * 30));
    c.reconcile_interval_seconds = static_cast<int>(EnvInt("RECONCILE_INTERVAL_SECONDS", 60, 1, 86400));
    c.ip_rate_limit_per_minute = static_cast<int>(EnvInt("IP_RATE_LIMIT_PER_MINUTE", 0, 0, 1000000));
    c.cors_origins = EnvList("CORS_ORIGINS", {});
    c.test_fault_drop_after_commit = EnvList("NW_TEST_FAULT_DROP_AFTER_COMMIT", {});
    return c;
}

namespace {

std::string CheckDatabaseAndTwilio(const Config &c)
{
    if (c.database_url.empty())
        return "DATABASE_URL is required";
    if (!c.twilio_testing_mode) {
        if (c.twilio_account_sid.empty())
            return "live Twilio mode needs TWILIO_ACCOUNT_SID";
        const bool token = !c.twilio_auth_token.empty();
        const bool key = !c.twilio_api_key.empty() && !c.twilio_api_secret.empty();
        if (!token && !key)
            return "live Twilio mode needs TWILIO_AUTH_TOKEN or TWILIO_API_KEY and TWILIO_API_SECRET";
        if (!c.test_fault_drop_after_commit.empty())
            return "NW_TEST_FAULT_DROP_AFTER_COMMIT is a test seam: it is refused with live Twilio "
                   "(TWILIO_TESTING_MODE=false)";
    }
    return "";
}

}  // namespace

std::string ValidateForServe(const Config &c)
{
    if (std::string problem = CheckDatabaseAndTwilio(c); !problem.empty())
        return problem;
    if (c.supabase_jwt_secret.empty() && c.supabase_jwks.empty())
        return "SUPABASE_JWT_SECRET (at least 32 bytes) or SUPABASE_JWKS is required";
    if (!c.supabase_jwt_secret.empty() && c.supabase_jwt_secret.size() < auth::kMinHs256SecretBytes)
        return "SUPABASE_JWT_SECRET must be at least 32 bytes";
    if (IsJwksUrl(c.supabase_jwks))
        if (std::string problem = CheckJwksUrl(c.supabase_jwks); !problem.empty())
            return problem;
    if (!c.admin_api_key.empty() && c.admin_api_key.size() < auth::kMinAdminKeyBytes)
        return "ADMIN_API_KEY must be at least 32 bytes (it acts as the service role)";
    if (c.reconcile_pending_after_seconds < kServeMinPendingAfterSeconds)
        return "RECONCILE_PENDING_AFTER_SECONDS must be at least 60 (a purchase may take up to 60 s)";
    if (!c.twilio_testing_mode && c.allow_self_topup)
        return "ALLOW_SELF_TOPUP=true is refused with live Twilio (users could pay for numbers with free money)";
    return "";
}

std::string ValidateForReconcile(const Config &c)
{
    return CheckDatabaseAndTwilio(c);
}

std::string ReconcileWarning(const Config &c)
{
    if (c.reconcile_pending_after_seconds >= kServeMinPendingAfterSeconds)
        return "";
    return "RECONCILE_PENDING_AFTER_SECONDS is " + std::to_string(c.reconcile_pending_after_seconds) +
           ", below the 60 s a purchase may take: a buy still in flight in a running `serve` may be failed "
           "here, and is then undone at Twilio";
}

}  // namespace nw::config
