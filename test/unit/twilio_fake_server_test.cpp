// The real client (libcurl) against the fake Twilio (build/fake-twilio) run as a
// child process. The binary is found through $FAKE_TWILIO_BIN, else next to this
// test binary; without it these tests are skipped (build the fake-twilio target).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "twilio/client.hpp"

extern char **environ;

namespace nw::twilio {
namespace {

constexpr const char *kAccount = "AC00000000000000000000000000000000";
constexpr const char *kToken = "fake-auth-token";

std::string FakeBinary()
{
    if (const char *env = std::getenv("FAKE_TWILIO_BIN"))
        return env;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return {};
    std::string dir(self, static_cast<size_t>(n));
    return dir.substr(0, dir.rfind('/')) + "/fake-twilio";
}

// Starts the fake on an ephemeral port and stops it (by its pid) at the end.
class FakeTwilio {
public:
    bool start(const std::string &binary, std::vector<std::string> extra = {})
    {
        int fds[2];
        if (pipe(fds) != 0)
            return false;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        std::vector<std::string> args = {binary, "--port", "0"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char *> argv;
        for (auto &a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(fds[1]);
        if (rc != 0) {
            close(fds[0]);
            pid_ = -1;
            return false;
        }
        FILE *out = fdopen(fds[0], "r");
        char line[256] = {0};
        bool ok = out && std::fgets(line, sizeof line, out) != nullptr;
        if (out)
            std::fclose(out);
        int p = 0;
        if (!ok || std::sscanf(line, "listening on 127.0.0.1:%d", &p) != 1)
            return false;
        port_ = p;
        return true;
    }
    ~FakeTwilio()
    {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
    }
    int port() const { return port_; }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

    nlohmann::json control(const std::string &path, const nlohmann::json &body = nlohmann::json::object())
    {
        httplib::Client http("127.0.0.1", port_);
        auto res = path == "/__control/state" ? http.Get(path.c_str())
                                              : http.Post(path.c_str(), body.dump(), "application/json");
        if (!res)
            return nullptr;
        nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
        return j.is_discarded() ? nlohmann::json(nullptr) : j;
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

class TwilioAgainstFake : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string bin = FakeBinary();
        if (bin.empty() || access(bin.c_str(), X_OK) != 0) {
            GTEST_SKIP() << "fake-twilio not found at '" << bin << "' (set FAKE_TWILIO_BIN)";
        }
        ASSERT_TRUE(fake_.start(bin, {"--timeout-sleep-ms", "3000"}));
    }

    Config config(long timeoutMs = 5000)
    {
        Config c;
        c.apiBase = fake_.base();
        c.accountSid = kAccount;
        c.authToken = kToken;
        c.timeoutMs = timeoutMs;
        c.voiceUrl = "https://example.com/voice";
        c.smsUrl = "https://example.com/sms";
        c.retry.baseDelayMs = 10;
        c.retry.maxDelayMs = 50;
        return c;
    }

    void fail(const nlohmann::json &rule)
    {
        nlohmann::json r = fake_.control("/__control/fail", rule);
        ASSERT_TRUE(r.is_object() && r.value("ok", false)) << r.dump();
    }

    FakeTwilio fake_;
};

TEST_F(TwilioAgainstFake, SearchBuyFindListRelease)
{
    Client client(config());
    auto found = client.search("US", std::string("415"), std::nullopt, 4);
    ASSERT_TRUE(found.IsOk()) << found.error().message;
    ASSERT_EQ(found.value().size(), 4u);
    EXPECT_EQ(found.value()[0].isoCountry, "US");
    // The fake alternates "sms" and "SMS": both must read as SMS-capable.
    EXPECT_TRUE(found.value()[0].capabilities.sms);
    EXPECT_TRUE(found.value()[1].capabilities.sms);

    // Buy 7 numbers: with the fake's page size of 3, lookups have to page.
    std::vector<Bought> bought;
    for (int i = 0; i < 7; ++i) {
        std::string number = "+1415555010" + std::to_string(i);
        BuyOutcome o = client.buy(number, "row-" + std::to_string(i));
        ASSERT_TRUE(std::holds_alternative<Bought>(o)) << describe(o);
        bought.push_back(std::get<Bought>(o));
        EXPECT_EQ(bought.back().friendlyName, "row-" + std::to_string(i));
    }
    auto last = client.FindOwned("+14155550106");
    ASSERT_TRUE(last.IsOk()) << last.error().message;
    ASSERT_TRUE(last.value());
    EXPECT_EQ(last.value()->sid, bought[6].sid);
    EXPECT_EQ(last.value()->friendlyName, "row-6");

    // "+1415555010" partially matches all seven; none is exactly it.
    auto none = client.FindOwned("+1415555010");
    ASSERT_TRUE(none.IsOk()) << none.error().message;
    EXPECT_FALSE(none.value());

    auto all = client.ListOwned();
    ASSERT_TRUE(all.IsOk()) << all.error().message;
    EXPECT_EQ(all.value().size(), 7u);

    nlohmann::json state = fake_.control("/__control/state");
    EXPECT_EQ(state["owned"][0]["voiceUrl"], "https://example.com/voice");
    EXPECT_EQ(state["owned"][0]["smsUrl"], "https://example.com/sms");
    EXPECT_GE(state["calls"]["list"].get<int>(), 3 + 3);

    auto released = client.release(bought[0].sid);
    ASSERT_TRUE(released.IsOk()) << released.error().message;
    EXPECT_EQ(released.value(), ReleaseOutcome::Released);
    auto again = client.release(bought[0].sid);
    ASSERT_TRUE(again.IsOk());
    EXPECT_EQ(again.value(), ReleaseOutcome::NotFound);
    auto gone = client.FindOwned("+14155550100");
    ASSERT_TRUE(gone.IsOk());
    EXPECT_FALSE(gone.value());
}

TEST_F(TwilioAgainstFake, DefiniteRefusals)
{
    Client client(config());
    fail({{"op", "buy"}, {"phoneNumber", "+14155550200"}, {"mode", "21422"}});
    BuyOutcome a = client.buy("+14155550200", "row");
    ASSERT_TRUE(std::holds_alternative<Refused>(a)) << describe(a);
    EXPECT_EQ(std::get<Refused>(a).twilioCode, 21422);

    BuyOutcome b = client.buy("+19995550000", "row");  // not for sale
    ASSERT_TRUE(std::holds_alternative<Refused>(b)) << describe(b);
    EXPECT_EQ(std::get<Refused>(b).twilioCode, 21422);

    Config wrong = config();
    wrong.authToken = "not-the-token";
    BuyOutcome c = Client(wrong).buy("+14155550201", "row");
    ASSERT_TRUE(std::holds_alternative<Refused>(c)) << describe(c);
    EXPECT_EQ(std::get<Refused>(c).httpStatus, 401);
    EXPECT_EQ(std::get<Refused>(c).twilioCode, 20003);
    EXPECT_EQ(describe(c).find("not-the-token"), std::string::npos);
    auto nothing = client.FindOwned("+14155550201");
    ASSERT_TRUE(nothing.IsOk());
    EXPECT_FALSE(nothing.value());
}

TEST_F(TwilioAgainstFake, LostResponsesAreUnknownButTheNumberIsOwned)
{
    Client client(config());
    for (const char *mode : {"lost_response", "lost_response_drop", "malformed"}) {
        std::string number = std::string("+1415555030") + std::to_string(std::string(mode).size() % 10);
        fail({{"op", "buy"}, {"phoneNumber", number}, {"mode", mode}});
        BuyOutcome o = client.buy(number, "row-lost");
        ASSERT_TRUE(std::holds_alternative<Unknown>(o)) << mode << ": " << describe(o);
        auto owned = client.FindOwned(number);
        ASSERT_TRUE(owned.IsOk()) << owned.error().message;
        ASSERT_TRUE(owned.value()) << mode;
        EXPECT_EQ(owned.value()->friendlyName, "row-lost");
    }
    EXPECT_EQ(fake_.control("/__control/state")["calls"]["buy"], 3);  // never retried
}

TEST_F(TwilioAgainstFake, TimeoutIsUnknownAndNotRetried)
{
    Client client(config(500));
    fail({{"op", "buy"}, {"mode", "timeout"}, {"sleepMs", 1500}});
    auto start = Clock::now();
    BuyOutcome o = client.buy("+14155550400", "row");
    EXPECT_TRUE(std::holds_alternative<Unknown>(o)) << describe(o);
    EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1400));
    EXPECT_EQ(fake_.control("/__control/state")["calls"]["buy"], 1);
}

TEST_F(TwilioAgainstFake, TooManyRequestsHonoursRetryAfter)
{
    Client client(config());
    fail({{"op", "buy"}, {"mode", "429"}, {"count", 1}, {"retryAfter", 1}});
    auto start = Clock::now();
    BuyOutcome o = client.buy("+14155550500", "row");
    ASSERT_TRUE(std::holds_alternative<Bought>(o)) << describe(o);
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(1000));
    EXPECT_EQ(fake_.control("/__control/state")["calls"]["buy"], 2);

    fail({{"op", "buy"}, {"mode", "429"}, {"count", -1}});
    BuyOutcome limited = client.buy("+14155550501", "row");
    ASSERT_TRUE(std::holds_alternative<RateLimited>(limited)) << describe(limited);
    EXPECT_EQ(std::get<RateLimited>(limited).twilioCode, 20429);
}

TEST_F(TwilioAgainstFake, ReadsAndDeletesAreRetried)
{
    Client client(config());
    BuyOutcome o = client.buy("+14155550600", "row");
    ASSERT_TRUE(std::holds_alternative<Bought>(o)) << describe(o);
    fail({{"op", "list"}, {"mode", "500"}, {"count", 2}});
    auto owned = client.FindOwned("+14155550600");
    ASSERT_TRUE(owned.IsOk()) << owned.error().message;
    ASSERT_TRUE(owned.value());

    fail({{"op", "list"}, {"mode", "500"}, {"count", -1}});
    auto cannotTell = client.FindOwned("+14155550600");
    ASSERT_FALSE(cannotTell.IsOk());
    EXPECT_EQ(cannotTell.error().httpStatus, 500);

    fail({{"op", "release"}, {"mode", "lost_response_drop"}});
    auto released = client.release(std::get<Bought>(o).sid);  // the retry sees 404
    ASSERT_TRUE(released.IsOk()) << released.error().message;
    EXPECT_EQ(released.value(), ReleaseOutcome::NotFound);
    EXPECT_TRUE(fake_.control("/__control/state")["owned"].empty());
}

TEST_F(TwilioAgainstFake, SixtyFourConcurrentSlowBuysOverlap)
{
    // Long enough that 64 buys overlap even on a busy two-core machine.
    ASSERT_TRUE(fake_.control("/__control/config", {{"buyDelayMs", 1500}}).is_object());
    Client client(config());
    auto start = Clock::now();
    std::vector<std::future<BuyOutcome>> buys;
    for (int i = 0; i < 64; ++i) {
        char number[32];
        std::snprintf(number, sizeof number, "+1415555%04d", 700 + i);
        buys.push_back(
            std::async(std::launch::async, [&client, n = std::string(number)] { return client.buy(n, "row"); }));
    }
    for (auto &f : buys) {
        BuyOutcome o = f.get();
        EXPECT_TRUE(std::holds_alternative<Bought>(o)) << describe(o);
    }
    EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(20000));  // one at a time would take 96 s
    nlohmann::json state = fake_.control("/__control/state");
    EXPECT_EQ(state["owned"].size(), 64u);
    EXPECT_GE(state["peakBuysInFlight"].get<int>(), 32);
}

}  // namespace
}  // namespace nw::twilio
