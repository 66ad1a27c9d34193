// See web.hpp.
#include "http/web.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "db/statements.hpp"
#include "demo/token.hpp"
#include "http/reply.hpp"
#include "http/request_checks.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"

// The build's web/ folder (CMakeLists.txt sets it); WEB_ROOT overrides it.
#ifndef NW_WEB_DIR
#define NW_WEB_DIR "web"
#endif

namespace nw::http {
namespace {

using nlohmann::json;

struct WebFile {
    std::string body;
    std::string type;
    std::string etag;     // "\"<16 hex digits of the body's SHA-256>\""
    std::string version;  // the same 16 hex digits: /assets/<name>?v=<version> is immutable
};

// Files read once at start-up; never changed afterwards, so reads need no lock.
struct Site {
    std::map<std::string, WebFile> pages;   // "/" and "/admin"
    std::map<std::string, WebFile> assets;  // by file name
};

Site &TheSite()
{
    static Site site;
    return site;
}

std::string Sha256Hex16(const std::string &data)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < 8 && i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 15];
    }
    return hex;
}

std::string ContentType(const std::string &name)
{
    auto ends = [&](const char *suffix) {
        const std::string s(suffix);
        return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    if (ends(".html"))
        return "text/html; charset=utf-8";
    if (ends(".js"))
        return "text/javascript; charset=utf-8";
    if (ends(".css"))
        return "text/css; charset=utf-8";
    if (ends(".svg"))
        return "image/svg+xml";
    if (ends(".png"))
        return "image/png";
    if (ends(".json"))
        return "application/json";
    return "application/octet-stream";
}

// Asset names are plain file names: letters, digits, '.', '-', '_', no leading dot.
bool IsAssetName(const std::string &name)
{
    if (name.empty() || name.size() > 100 || name[0] == '.')
        return false;
    for (const char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
            return false;
    return true;
}

bool ReadFile(const std::string &path, std::string *out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    std::ostringstream s;
    s << in.rdbuf();
    *out = s.str();
    return true;
}

WebFile MakeFile(std::string body, const std::string &name)
{
    WebFile f;
    f.body = std::move(body);
    f.type = ContentType(name);
    f.version = Sha256Hex16(f.body);
    f.etag = "\"" + f.version + "\"";
    return f;
}

// The assets the pages name (web/assets/), and the two pages with every
// "/assets/<name>" they reference given its content version.
void LoadSite(const std::string &root)
{
    static const char *const kAssets[] = {"app.css", "common.js", "buyer.js", "admin.js", "icon.svg"};
    Site &site = TheSite();
    for (const char *name : kAssets) {
        std::string body;
        if (!ReadFile(root + "/assets/" + name, &body)) {
            log::Warn("a web asset is missing; the pages may not work", {{"file", std::string("assets/") + name}});
            continue;
        }
        site.assets.emplace(name, MakeFile(std::move(body), name));
    }
    const std::pair<const char *, const char *> kPages[] = {{"/", "index.html"}, {"/admin", "admin.html"}};
    for (const auto &[path, name] : kPages) {
        std::string body;
        if (!ReadFile(root + "/" + name, &body)) {
            log::Warn("a web page is missing (set WEB_ROOT to the project's web/ folder)", {{"file", name}});
            continue;
        }
        for (const auto &[asset, file] : site.assets) {
            const std::string from = "\"/assets/" + asset + "\"";
            const std::string to = "\"/assets/" + asset + "?v=" + file.version + "\"";
            for (std::size_t at = body.find(from); at != std::string::npos; at = body.find(from, at + to.size()))
                body.replace(at, from.size(), to);
        }
        site.pages.emplace(path, MakeFile(std::move(body), name));
    }
}

// connect-src may add SUPABASE_URL (the live sign-in), when it is a plain URL.
std::string ContentSecurityPolicy(const config::Config &config)
{
    std::string connect = "'self'";
    const std::string &url = config.supabase_url;
    const bool plain = (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) &&
                       url.find_first_of(" ;,'\"\r\n\t") == std::string::npos;
    if (plain)
        connect += " " + url;
    return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect +
           "; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

void SecurityHeaders(const std::string &csp, httplib::Response &res)
{
    res.set_header("Content-Security-Policy", csp);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
}

bool Matches(const httplib::Request &req, const WebFile &file)
{
    const std::string given = req.get_header_value("If-None-Match");
    return !given.empty() && (given == "*" || given.find(file.etag) != std::string::npos);
}

void SendFile(const httplib::Request &req, httplib::Response &res, const WebFile &file, const std::string &cache)
{
    res.set_header("ETag", file.etag);
    res.set_header("Cache-Control", cache);
    if (Matches(req, file)) {
        res.status = 304;
        return;
    }
    res.status = 200;
    res.set_content(file.body, file.type);
}

void NotFound(httplib::Response &res)
{
    SendJson(res, 404, {{"error", "not found"}, {"code", "NOT_FOUND"}});
}

// number_wallet.renewal_grace_days as the database has it: its default is the
// library's (extension/settings.hpp), read through _setting(), never repeated
// here. JSON null when the database cannot be asked.
json RenewalGraceDays(App &app)
{
    const db::Result r = app.pool->Exec(db::sql::kRenewalGraceDays, {});
    if (!r.ok || r.rows.empty() || !r.rows[0][0])
        return nullptr;
    const std::string &v = *r.rows[0][0];
    if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos)
        return nullptr;
    return std::stoi(v);
}

json PublicConfig(App &app)
{
    const config::Config &c = app.config;
    return {{"twilio", c.twilio_testing_mode ? "testing" : "live"},
            {"countries", c.number_countries},
            {"monthlyCost", c.number_monthly_price},
            {"currency", c.number_price_currency},
            {"supabaseUrl", c.supabase_url.empty() ? json(nullptr) : json(c.supabase_url)},
            {"supabaseAnonKey", c.supabase_anon_key.empty() ? json(nullptr) : json(c.supabase_anon_key)},
            {"renewalGraceDays", RenewalGraceDays(app)}};
}

// Testing mode only: a new demo user (a fresh uuid) and an hour's token for it,
// shaped like Supabase's password grant answer.
Reply DemoSession(App &app)
{
    const config::Config &c = app.config;
    if (!c.twilio_testing_mode)
        return Error(404, "NOT_FOUND", "demo sign-in exists only in Twilio testing mode");
    if (c.supabase_jwt_secret.empty())
        return Error(404, "NOT_FOUND", "demo sign-in needs SUPABASE_JWT_SECRET");
    constexpr std::int64_t kTtl = 3600;
    demo::TokenRequest request;
    request.subject = RandomUuid();
    request.ttl_seconds = kTtl;
    if (!c.supabase_url.empty())
        request.issuer = c.supabase_url + "/auth/v1";
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    Reply reply;
    reply.body = {{"access_token", demo::MintHs256(c.supabase_jwt_secret, request)},
                  {"token_type", "bearer"},
                  {"expires_in", kTtl},
                  {"expires_at", now + kTtl},
                  {"user", {{"id", request.subject}, {"role", "authenticated"}}},
                  {"selfTopup", c.allow_self_topup}};
    return reply;
}

}  // namespace

bool IsWebPublic(const httplib::Request &req)
{
    const std::string &p = req.path;
    return p == "/" || p == "/admin" || p.rfind("/assets/", 0) == 0 || p == "/api/config" || p == "/api/demo/session";
}

bool IsBodyOptional(const httplib::Request &req)
{
    return req.path == "/api/demo/session";
}

const char *WebRouteTemplate(const std::string &path)
{
    if (path == "/")
        return "/";
    if (path == "/admin")
        return "/admin";
    if (path == "/api/config")
        return "/api/config";
    if (path == "/api/demo/session")
        return "/api/demo/session";
    if (path.rfind("/assets/", 0) == 0)
        return "/assets/{file}";
    return nullptr;
}

void RegisterWebRoutes(App &app, httplib::Server &s)
{
    LoadSite(app.config.web_root.empty() ? std::string(NW_WEB_DIR) : app.config.web_root);
    const std::string csp = ContentSecurityPolicy(app.config);

    for (const char *path : {"/", "/admin"}) {
        const std::string page = path;
        s.Get(path, [csp, page](const httplib::Request &req, httplib::Response &res) {
            SecurityHeaders(csp, res);
            const auto &pages = TheSite().pages;
            const auto it = pages.find(page);
            if (it == pages.end())
                return NotFound(res);
            SendFile(req, res, it->second, "no-cache");
        });
    }
    s.Get(R"(/assets/([^/]+))", [csp](const httplib::Request &req, httplib::Response &res) {
        SecurityHeaders(csp, res);
        const std::string name = req.matches[1];
        const auto &assets = TheSite().assets;
        const auto it = IsAssetName(name) ? assets.find(name) : assets.end();
        if (it == assets.end())
            return NotFound(res);
        // The pages name each asset with its content version: that URL never
        // changes meaning. Any other (no or an old ?v=) is revalidated.
        const bool versioned = req.has_param("v") && req.get_param_value("v") == it->second.version;
        SendFile(req, res, it->second, versioned ? "public, max-age=31536000, immutable" : "no-cache");
    });
    s.Get("/api/config", [&app](const httplib::Request &, httplib::Response &res) {
        res.set_header("Cache-Control", "no-store");
        SendJson(res, 200, PublicConfig(app));
    });
    s.Post("/api/demo/session", [&app](const httplib::Request &, httplib::Response &res) {
        const Reply reply = DemoSession(app);
        res.set_header("Cache-Control", "no-store");
        for (const auto &[name, value] : reply.headers)
            res.set_header(name, value);
        SendJson(res, reply.status, reply.body);
    });
}

}  // namespace nw::http
