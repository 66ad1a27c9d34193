// Handlers take their caller as an argument (http/caller.hpp): what a handler
// answers depends on the Caller it is given, with no per-thread state set up;
// WithCaller hands PreRoute's principal to the handler once, and runs no
// handler when nobody was authenticated.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/app.hpp"
#include "http/admin_routes.hpp"
#include "http/caller.hpp"
#include "http/request_checks.hpp"
#include "http/routes.hpp"

namespace nw::http {
namespace {

const std::string kAlice = "11111111-1111-4111-8111-111111111111";
const std::string kBob = "22222222-2222-4222-8222-222222222222";
const std::string kAdminKey = "an-admin-api-key-of-at-least-thirty-two-bytes";

Caller User(const std::string &user_id, const std::string &request_id = "req-user")
{
    Caller caller;
    caller.principal.kind = auth::Principal::Kind::User;
    caller.principal.user_id = user_id;
    caller.principal.role = "authenticated";
    caller.request_id = request_id;
    return caller;
}

Caller Service(const std::string &request_id = "req-service")
{
    Caller caller;
    caller.principal.kind = auth::Principal::Kind::Service;
    caller.principal.role = "service_role";
    caller.principal.admin_key = true;
    caller.request_id = request_id;
    return caller;
}

// Two numbers for any search, counting the searches it was asked for.
class CountingProvider final : public provider::Provider {
public:
    int searches = 0;
    const char *Name() const override { return "simulator"; }
    twilio::Result<std::vector<twilio::AvailableNumber>> Search(const std::string &country,
                                                                const std::optional<std::string> &,
                                                                const std::optional<std::string> &, int) override
    {
        ++searches;
        twilio::AvailableNumber n;
        n.phoneNumber = "+14155550100";
        n.isoCountry = country;
        return std::vector<twilio::AvailableNumber>{n, n};
    }
    twilio::BuyOutcome Buy(const std::string &, const std::string &, twilio::Deadline) override
    {
        return twilio::Refused{400, 21422, "not available"};
    }
    twilio::Result<std::optional<twilio::OwnedNumber>> FindOwned(const std::string &, twilio::Deadline) override
    {
        return std::optional<twilio::OwnedNumber>();
    }
    twilio::Result<std::vector<twilio::OwnedNumber>> ListOwned(twilio::Deadline) override
    {
        return std::vector<twilio::OwnedNumber>();
    }
    twilio::Result<twilio::ReleaseOutcome> Release(const std::string &, twilio::Deadline) override
    {
        return twilio::ReleaseOutcome::NotFound;
    }
};

// An App whose database cannot be reached (port 1 refuses at once, and no
// failover wait): a handler that gets as far as the database answers 503.
struct TestApp {
    App app;
    CountingProvider *provider;
    TestApp()
    {
        app.pool = std::make_unique<db::Pool>("host=127.0.0.1 port=1 dbname=none connect_timeout=2", 1, "simulator");
        app.pool->set_failover_wait(std::chrono::milliseconds(0));
        auto counting = std::make_unique<CountingProvider>();
        provider = counting.get();
        app.provider = std::move(counting);
        auth::VerifierConfig cfg;
        cfg.hs256_secret = "a-test-hs256-secret-of-thirty-two-bytes";
        cfg.admin_api_key = kAdminKey;
        app.verifier = std::make_unique<auth::Verifier>(std::move(cfg));
    }
};

httplib::Request Get(const std::string &path)
{
    httplib::Request req;
    req.method = "GET";
    req.path = path;
    return req;
}

httplib::Request TopupOf(const std::string &user_id)
{
    httplib::Request req;
    req.method = "POST";
    req.path = "/api/wallet/topup";
    req.body = R"({"amount":"5.00","currency":"USD","userId":")" + user_id + R"("})";
    return req;
}

TEST(CallerHandlers, EachCallerSearchesAgainstItsOwnLimit)
{
    TestApp t;
    const httplib::Request req = Get("/api/numbers/available");
    for (int i = 0; i < 30; ++i)
        ASSERT_EQ(Available(t.app, User(kAlice), req).status, 200) << "search " << i + 1;
    const Reply alice = Available(t.app, User(kAlice), req);
    EXPECT_EQ(alice.status, 429);
    EXPECT_EQ(alice.body.at("code"), "RATE_LIMITED");
    // The same handler and request, another caller: Bob has searched nothing yet.
    const Reply bob = Available(t.app, User(kBob), req);
    EXPECT_EQ(bob.status, 200);
    EXPECT_EQ(bob.body.at("numbers").size(), 2u);
    EXPECT_EQ(t.provider->searches, 1);  // the rest came from the search cache
}

TEST(CallerHandlers, ATopUpIsForTheCallersOwnWallet)
{
    TestApp t;
    t.app.config.allow_self_topup = true;
    // Bob may not credit Alice's wallet ...
    const Reply bob = Topup(t.app, User(kBob), TopupOf(kAlice));
    EXPECT_EQ(bob.status, 403);
    EXPECT_EQ(bob.body.at("error"), "top-ups need the service role");
    // ... Alice may: the handler goes on to the database (which is down here).
    const Reply alice = Topup(t.app, User(kAlice), TopupOf(kAlice));
    EXPECT_EQ(alice.status, 503);
    EXPECT_EQ(alice.body.at("code"), "UNAVAILABLE");
    // The service role credits any wallet it names.
    EXPECT_EQ(Topup(t.app, Service(), TopupOf(kAlice)).status, 503);
}

TEST(CallerHandlers, AServiceCallerIsRefusedOnUserRoutes)
{
    TestApp t;
    const Reply wallet = GetWallet(t.app, Service(), Get("/api/wallet"));
    EXPECT_EQ(wallet.status, 403);
    EXPECT_EQ(wallet.body.at("code"), "FORBIDDEN");
    EXPECT_EQ(wallet.body.at("error"), "this route is for end users; service tokens use the admin routes");
    const Reply numbers = ListNumbers(t.app, Service(), Get("/api/numbers"));
    EXPECT_EQ(numbers.status, 403);
    const Reply search = Available(t.app, Service(), Get("/api/numbers/available"));
    EXPECT_EQ(search.status, 403);
    EXPECT_EQ(search.body.at("error"), "searching is for signed-in users");
    EXPECT_EQ(t.provider->searches, 0);
    // A user on the same route gets past the check (to the database, down here).
    EXPECT_EQ(GetWallet(t.app, User(kAlice), Get("/api/wallet")).status, 503);
}

TEST(CallerHandlers, AnAnonymousCallerCannotBuy)
{
    TestApp t;
    Caller anonymous = User(kAlice);
    anonymous.principal.anonymous = true;
    httplib::Request req;
    req.method = "POST";
    req.path = "/api/numbers/purchase";
    req.body = R"({"phoneNumber":"+14155550100"})";
    const Reply reply = PurchaseRoute(t.app, anonymous, req);
    EXPECT_EQ(reply.status, 403);
    EXPECT_EQ(reply.body.at("error"), "anonymous users cannot buy numbers; sign in first");
}

TEST(CallerHandlers, OperatorRoutesNeedAnOperatorOrTheService)
{
    TestApp t;
    const httplib::Request req = Get("/api/admin/numbers");
    const Reply user = AdminNumbers(t.app, User(kAlice), req);
    EXPECT_EQ(user.status, 403);
    EXPECT_EQ(user.body.at("error"), "this route needs an operator or the service role");
    Caller operator_caller = User(kBob);
    operator_caller.principal.is_operator = true;
    EXPECT_EQ(AdminNumbers(t.app, operator_caller, req).status, 503);  // past the check, to the database
    EXPECT_EQ(AdminNumbers(t.app, Service(), req).status, 503);
    EXPECT_FALSE(RequireService(operator_caller));
    EXPECT_TRUE(RequireService(User(kAlice)));
    EXPECT_TRUE(RequireUser(Service()));
    EXPECT_FALSE(RequireUser(operator_caller));
}

TEST(CallerHandlers, AnAuditedActionRecordsItsOwnCaller)
{
    Caller operator_caller = User(kBob, "req-bob");
    operator_caller.principal.is_operator = true;
    operator_caller.principal.email = "bob@example.test";
    const db::Params bob = AuditParams(operator_caller, {"x"});
    const db::Params key = AuditParams(Service("req-key"), {"x"});
    ASSERT_EQ(bob.size(), 3u);
    EXPECT_EQ(bob[0], kBob + " (bob@example.test)");
    EXPECT_EQ(bob[1], "req-bob");
    EXPECT_EQ(bob[2], "x");
    ASSERT_EQ(key.size(), 3u);
    EXPECT_EQ(key[0], "admin-key");
    EXPECT_EQ(key[1], "req-key");
}

// The pipeline: PreRoute authenticates, WithCaller hands exactly that
// principal and the request's id to the handler, once.
TEST(CallerWrapper, PassesWhomPreRouteAuthenticated)
{
    TestApp t;
    std::optional<Caller> seen;
    const auto handler = WithCaller(t.app, [&seen](App &, const Caller &caller, const httplib::Request &) {
        seen = caller;
        return Reply{};
    });
    std::thread([&] {
        httplib::Request req = Get("/api/wallet");
        req.set_header("Authorization", "Bearer " + kAdminKey);
        req.set_header("X-Request-Id", "req-pipeline-1");
        httplib::Response res;
        ASSERT_FALSE(PreRoute(t.app, req, res));  // not answered: the route runs
        handler(req, res);
        EXPECT_EQ(res.status, 200);
        ASSERT_TRUE(seen);
        EXPECT_TRUE(seen->principal.is_service());
        EXPECT_TRUE(seen->principal.admin_key);
        EXPECT_EQ(seen->request_id, "req-pipeline-1");
        // Taken once: nothing is left for a second handler on this thread.
        seen.reset();
        httplib::Response again;
        handler(req, again);
        EXPECT_EQ(again.status, 401);
        EXPECT_FALSE(seen);
    }).join();
}

TEST(CallerWrapper, RunsNoHandlerWhenNobodyWasAuthenticated)
{
    TestApp t;
    bool ran = false;
    const auto handler = WithCaller(t.app, [&ran](App &, const Caller &, const httplib::Request &) {
        ran = true;
        return Reply{};
    });
    std::thread([&] {  // a fresh thread: PreRoute never ran here
        httplib::Response res;
        handler(Get("/api/wallet"), res);
        EXPECT_EQ(res.status, 401);
        EXPECT_NE(res.body.find("UNAUTHORIZED"), std::string::npos);
    })
        .join();
    EXPECT_FALSE(ran);
}

TEST(CallerWrapper, APublicPathLeavesNoCallerBehind)
{
    TestApp t;
    bool ran = false;
    const auto handler = WithCaller(t.app, [&ran](App &, const Caller &, const httplib::Request &) {
        ran = true;
        return Reply{};
    });
    std::thread([&] {
        // An authenticated request, then a public one on the same thread
        // (a keep-alive connection): the first caller does not carry over.
        httplib::Request first = Get("/api/wallet");
        first.set_header("Authorization", "Bearer " + kAdminKey);
        httplib::Response r1;
        ASSERT_FALSE(PreRoute(t.app, first, r1));
        httplib::Request health = Get("/api/health");
        httplib::Response r2;
        ASSERT_FALSE(PreRoute(t.app, health, r2));
        httplib::Response r3;
        handler(health, r3);
        EXPECT_EQ(r3.status, 401);
    }).join();
    EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace nw::http
