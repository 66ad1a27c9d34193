// libFuzzer target: the shim's whole request path in-process, with no sockets:
// raw bytes -> cpp-httplib's request parser (request line, headers, query string,
// Content-Length body) -> the shim's PreRoute (413/411/416/401/415, CORS, auth)
// -> the real routes (RegisterRoutes: JSON bodies, query parameters, validators,
// libphonenumber) -> the response writer. Server::process_request is driven
// through a subclass with an httplib::detail::BufferStream.
// Doubles: the database pool (stub_pool.cpp: every statement fails with a chosen
// SQLSTATE), the provider (a fixed search result), and log::Write (formats the
// line like util/log.cpp, then drops it).
//
// First byte: bit 0 = raw (the rest is the request) or structured (a request is
// built from the rest with a chosen route, credential and body); the other bits
// pick the database error. Invariants:
//  * no sanitizer report, no exception out of a route (the exception handler aborts);
//  * every response has a status line, and no 500 unless the stub said XX000;
//  * no 2xx (other than a 204 preflight) without a valid credential in the request;
//  * JSON responses are valid JSON objects with "code" and "error" on 4xx/5xx.
#include <memory>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "http/reply.hpp"
#include "http/request_checks.hpp"
#include "http/routes.hpp"
#include "http/web.hpp"
#include "jwt_support.hpp"
#include "app/app.hpp"
#include "util/log.hpp"

namespace fuzzhttp {
extern const char *g_sqlstate;
}

// The log double: same JSON building and dump as util/log.cpp, output dropped.
namespace nw::log {
void Write(const char *level, const std::string &message, const nlohmann::json &fields)
{
    nlohmann::json line = {{"level", level}, {"msg", message}};
    if (fields.is_object())
        for (auto it = fields.begin(); it != fields.end(); ++it)
            line[it.key()] = it.value();
    (void) line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace nw::log

namespace {

using fuzz::Fail;
using nlohmann::json;

class FakeProvider final : public nw::provider::Provider {
public:
    const char *Name() const override { return "simulator"; }
    nw::twilio::Result<std::vector<nw::twilio::AvailableNumber>> Search(const std::string &country,
                                                                        const std::optional<std::string> &,
                                                                        const std::optional<std::string> &,
                                                                        int limit) override
    {
        std::vector<nw::twilio::AvailableNumber> out;
        nw::twilio::AvailableNumber n;
        n.phoneNumber = "+14155550100";
        n.friendlyName = "(415) 555-0100";
        n.isoCountry = country;
        for (int i = 0; i < limit && i < 2; ++i)
            out.push_back(n);
        return out;
    }
    nw::twilio::BuyOutcome Buy(const std::string &, const std::string &, nw::twilio::Deadline) override
    {
        return nw::twilio::Refused{400, 21422, "not available"};
    }
    nw::twilio::Result<std::optional<nw::twilio::OwnedNumber>> FindOwned(const std::string &,
                                                                         nw::twilio::Deadline) override
    {
        return std::optional<nw::twilio::OwnedNumber>();
    }
    nw::twilio::Result<std::vector<nw::twilio::OwnedNumber>> ListOwned(nw::twilio::Deadline) override
    {
        return std::vector<nw::twilio::OwnedNumber>();
    }
    nw::twilio::Result<nw::twilio::ReleaseOutcome> Release(const std::string &, nw::twilio::Deadline) override
    {
        return nw::twilio::ReleaseOutcome::NotFound;
    }
};

struct FuzzServer : httplib::Server {
    bool Process(httplib::Stream &strm)
    {
        bool closed = false;
        return process_request(strm, /*close_connection=*/true, closed, nullptr);
    }
};

// Credentials the harness knows to be valid (tokens expire in 2100).
struct Creds {
    std::string admin = fuzzjwt::kAdminKey;
    std::string user, anon, service, expired, es_user;
};
const Creds &TheCreds()
{
    static const Creds *c = [] {
        auto *c = new Creds();
        const char *hs = R"({"alg":"HS256","typ":"JWT"})";
        json user = {{"iss", fuzzjwt::kIssuer}, {"sub", fuzzjwt::kUserId}, {"aud", "authenticated"},
                     {"role", "authenticated"}, {"exp", 4102444800LL},     {"iat", 1700000000}};
        c->user = fuzzjwt::SignHs(fuzzjwt::kSecret, hs, user.dump());
        json anon = user;
        anon["is_anonymous"] = true;
        anon["sub"] = "0f0e0d0c-0b0a-4909-8807-060504030201";
        c->anon = fuzzjwt::SignHs(fuzzjwt::kSecret, hs, anon.dump());
        c->service = fuzzjwt::SignHs(fuzzjwt::kSecret, hs,
                                     json{{"iss", "supabase"}, {"role", "service_role"}, {"exp", 4102444800LL}}.dump());
        json expired = user;
        expired["exp"] = 1000;
        c->expired = fuzzjwt::SignHs(fuzzjwt::kSecret, hs, expired.dump());
        c->es_user =
            fuzzjwt::SignAsym(fuzzjwt::TheKeys().ec, R"({"alg":"ES256","typ":"JWT","kid":"ec-1"})", user.dump());
        return c;
    }();
    return *c;
}

struct Harness {
    nw::App app;
    FuzzServer server;
    Harness()
    {
        app.config.cors_origins = {"https://app.example.test"};
        app.config.allow_self_topup = true;
        app.pool = std::make_unique<nw::db::Pool>("stub", 4, "simulator");
        app.provider = std::make_unique<FakeProvider>();
        nw::auth::VerifierConfig cfg;
        cfg.hs256_secret = fuzzjwt::kSecret;
        cfg.jwks_json = fuzzjwt::Jwks();
        cfg.supabase_url = fuzzjwt::kUrl;
        cfg.admin_api_key = fuzzjwt::kAdminKey;
        app.verifier = std::make_unique<nw::auth::Verifier>(std::move(cfg));  // system clock

        // As server.cpp's ConfigureServer, except that an exception is a finding.
        server.set_payload_max_length(nw::http::kMaxBodyBytes);
        server.set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
            return nw::http::PreRoute(app, req, res) ? httplib::Server::HandlerResponse::Handled
                                                     : httplib::Server::HandlerResponse::Unhandled;
        });
        server.set_exception_handler([](const httplib::Request &req, httplib::Response &, std::exception_ptr ep) {
            std::string what = "non-standard exception";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception &e) {
                what = e.what();
            } catch (...) {
            }
            Fail("a route threw (production answers 500)", req.method + " " + req.target + ": " + what);
        });
        server.set_error_handler([](const httplib::Request &, httplib::Response &res) {
            if (!res.body.empty())
                return;
            nw::http::SendJson(res, res.status, {{"error", "bad request"}, {"code", "INVALID_REQUEST"}});
        });
        nw::http::RegisterRoutes(app, server);
    }
};

Harness &TheHarness()
{
    static Harness *h = new Harness();
    return *h;
}

const char *const kSqlStates[] = {"NW001", "NW002", "NW003", "NW004", "NW005", "NW006", "22023", "42501",
                                  "40001", "XX000", "NW002", "NW001", "23505", "NW004", "NW003", "NW006"};

struct Route {
    const char *method;
    const char *path;
    bool body;
};
const Route kRoutes[] = {
    {"GET", "/api/health", false},           {"GET", "/api/numbers/available", false},
    {"POST", "/api/numbers/purchase", true}, {"GET", "/api/numbers", false},
    {"GET", "/api/numbers/", false},         {"DELETE", "/api/numbers/", false},
    {"GET", "/api/wallet", false},           {"GET", "/api/transactions", false},
    {"POST", "/api/wallet/topup", true},     {"GET", "/api/admin/interventions", false},
    {"GET", "/api/admin/summary", false},    {"GET", "/metrics", false},
    {"OPTIONS", "/api/wallet/topup", false}, {"PUT", "/api/wallet/topup", true},
    {"POST", "/api/numbers/purchase", true}, {"POST", "/api/wallet/topup", true},
};

// Structured: byte a = route, byte b = credential and header variants; then
// "<query or path tail>\n<body>".
std::string Build(std::string_view rest)
{
    if (rest.size() < 2)
        return std::string(rest);
    const Route &r = kRoutes[static_cast<unsigned char>(rest[0]) % 16];
    const unsigned b = static_cast<unsigned char>(rest[1]);
    rest.remove_prefix(2);
    const std::size_t nl = rest.find('\n');
    const std::string_view tail = rest.substr(0, nl == std::string_view::npos ? rest.size() : nl);
    const std::string_view body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    const Creds &c = TheCreds();
    const std::string *creds[8] = {&c.user, &c.service, &c.admin, &c.anon, &c.es_user, &c.expired, &c.user, nullptr};
    std::string target = r.path;
    const std::string p = r.path;
    if (p == "/api/numbers/")
        target += std::string(tail) + (std::string(r.method) == "DELETE" ? "/release" : "");
    else if (!tail.empty())
        target += "?" + std::string(tail);
    std::string req = std::string(r.method) + " " + target + " HTTP/1.1\r\nHost: fuzz\r\n";
    if (const std::string *cred = creds[b % 8])
        req += "Authorization: Bearer " + *cred + "\r\n";
    if (b & 0x08)
        req += "Idempotency-Key: " + std::string(tail.substr(0, 300)) + "\r\n";
    if (b & 0x10)
        req += "Origin: https://app.example.test\r\n";
    if (b & 0x20)
        req += "X-Request-Id: " + std::string(tail.substr(0, 80)) + "\r\n";
    if (r.body || (b & 0x40)) {
        req += (b & 0x80) ? "Content-Type: text/plain\r\n" : "Content-Type: application/json; charset=utf-8\r\n";
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    req += body;
    return req;
}

bool HasValidCredential(std::string_view request)
{
    const Creds &c = TheCreds();
    for (const std::string *cred : {&c.admin, &c.user, &c.anon, &c.service, &c.es_user})
        if (request.find(*cred) != std::string_view::npos)
            return true;
    return false;
}

// The pages, their assets and the two sign-in routes answer 2xx without a
// token (shim/http/web.cpp); they are found when the fuzzer runs from the
// repository root, where test/fuzz/run.sh starts it.
bool IsPublicPage(std::string_view request)
{
    const std::string_view line = request.substr(0, request.find("\r\n"));
    const std::size_t target_start = line.find(' ');
    if (target_start == std::string_view::npos)
        return false;
    const std::size_t target_end = line.find(' ', target_start + 1);
    std::string target(line.substr(target_start + 1, target_end == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : target_end - target_start - 1));
    // cpp-httplib drops a fragment ("/#api/wallet" is "/") as well as the query.
    target = target.substr(0, target.find_first_of("?#"));
    httplib::Request parsed;
    parsed.path = httplib::detail::decode_url(target, false);
    return nw::http::IsWebPublic(parsed);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    (void) TheHarness();
    (void) TheCreds();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    Harness &h = TheHarness();
    fuzzhttp::g_sqlstate = kSqlStates[(data[0] >> 1) % 16];
    const std::string_view rest = fuzz::AsView(data + 1, size - 1);
    const std::string request = (data[0] & 1) ? Build(rest) : std::string(rest);

    httplib::detail::BufferStream stream;
    stream.write(request.data(), request.size());
    h.server.Process(stream);
    const std::string &all = stream.get_buffer();
    if (all.size() <= request.size())
        return 0;  // nothing answered (empty or unreadable request line)
    std::string_view resp(all);
    resp.remove_prefix(request.size());
    if (resp.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0)
        resp.remove_prefix(25);
    // A 100 Continue makes the parser read our own output as the body: judge only the final answer.
    if (request.find("100-continue") != std::string::npos)
        return 0;
    if (resp.size() < 12 || resp.substr(0, 9) != "HTTP/1.1 ")
        Fail("response without a status line", request);
    const int status = std::atoi(std::string(resp.substr(9, 3)).c_str());
    if (status < 100 || status > 599)
        Fail("response status out of range", request);
    if (status == 500 && std::string_view(fuzzhttp::g_sqlstate) != "XX000" &&
        std::string_view(fuzzhttp::g_sqlstate) != "23505")
        Fail("500 without a database error that maps to 500", request);
    const std::size_t head_end = resp.find("\r\n\r\n");
    if (head_end == std::string_view::npos)
        Fail("response without end of headers", request);
    const std::string_view head = resp.substr(0, head_end);
    const std::string_view body = resp.substr(head_end + 4);
    const bool preflight = status == 204;
    if (status >= 200 && status < 300 && !preflight && !HasValidCredential(request) && !IsPublicPage(request))
        Fail("2xx answer without a valid credential", request);
    if (head.find("Content-Type: application/json") != std::string_view::npos && !body.empty()) {  // HEAD: no body
        const json j = json::parse(body.begin(), body.end(), nullptr, false);
        if (j.is_discarded() || !j.is_object())
            Fail("JSON response is not a JSON object", request);
        // (/api/health answers 503 with its own {"status":"degraded",...} body.)
        if (status >= 400 && !j.contains("status") && (!j.contains("code") || !j.contains("error")))
            Fail("error response without code/error", request);
    }
    return 0;
}
