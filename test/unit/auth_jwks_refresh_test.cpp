// JWKS refresh (shim/auth): a JWKS given as a URL is fetched again every
// kJwksRefreshSeconds and when a token names an unknown kid (at most once per
// kJwksUnknownKidRefreshSeconds); a failed fetch keeps the last good key set.
// The fetcher and the clock are injected: no network, no sleeping.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "auth/internal.hpp"
#include "auth/jwks_source.hpp"

namespace nw::auth {
namespace {

using detail::base64url_encode;
using nlohmann::json;

constexpr std::int64_t kStart = 1'700'000'000;
const char *const kUser = "c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f";

struct PkeyFree {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, PkeyFree>;

json EcJwk(EVP_PKEY *key, const std::string &kid)
{
    unsigned char point[65];
    std::size_t len = 0;
    EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len), 1);
    const std::string raw(reinterpret_cast<char *>(point), len);
    return json{{"kty", "EC"},
                {"crv", "P-256"},
                {"alg", "ES256"},
                {"use", "sig"},
                {"kid", kid},
                {"x", base64url_encode(raw.substr(1, 32))},
                {"y", base64url_encode(raw.substr(33, 32))}};
}

std::string Jwks(std::initializer_list<json> keys)
{
    json array = json::array();
    for (const auto &k : keys)
        array.push_back(k);
    return json{{"keys", array}}.dump();
}

// An ES256 token (JWS raw R||S signature) for a user, valid for an hour from `now`.
std::string Es256Token(EVP_PKEY *key, const std::string &kid, std::int64_t now)
{
    const json header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid}};
    const json claims{
        {"sub", kUser}, {"aud", "authenticated"}, {"role", "authenticated"}, {"exp", now + 3600}, {"iat", now}};
    const std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char *>(input.data()), input.size());
    std::string der(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(der.data()), &len,
                   reinterpret_cast<const unsigned char *>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    const auto *p = reinterpret_cast<const unsigned char *>(der.data());
    ECDSA_SIG *sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
    const BIGNUM *r = nullptr, *s = nullptr;
    ECDSA_SIG_get0(sig, &r, &s);
    unsigned char raw[64];
    BN_bn2binpad(r, raw, 32);
    BN_bn2binpad(s, raw + 32, 32);
    ECDSA_SIG_free(sig);
    return input + "." + base64url_encode(std::string(reinterpret_cast<char *>(raw), 64));
}

// The key server: what it serves now, and how often it was asked.
struct KeyServer {
    std::mutex mutex;
    std::string document;
    bool down = false;
    std::atomic<int> fetches{0};

    JwksFetcher Fetcher()
    {
        return [this] {
            ++fetches;
            std::lock_guard<std::mutex> lock(mutex);
            JwksFetch f;
            if (down) {
                f.error = "could not fetch SUPABASE_JWKS: HTTP status 503";
                return f;
            }
            f.ok = true;
            f.document = document;
            return f;
        };
    }
    void Serve(const std::string &doc)
    {
        std::lock_guard<std::mutex> lock(mutex);
        document = doc;
    }
};

class AuthJwksRefresh : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        old_.reset(EVP_EC_gen("P-256"));
        new_.reset(EVP_EC_gen("P-256"));
    }
    static void TearDownTestSuite()
    {
        old_.reset();
        new_.reset();
    }

    // A verifier whose first fetch gave the old key only.
    std::unique_ptr<Verifier> Make()
    {
        server_.Serve(Jwks({EcJwk(old_.get(), "old")}));
        VerifierConfig c;
        c.jwks_json = server_.document;
        c.jwks_fetcher = server_.Fetcher();
        c.clock = [this] { return now_.load(); };
        return std::make_unique<Verifier>(std::move(c));
    }

    static Key old_, new_;
    KeyServer server_;
    std::atomic<std::int64_t> now_{kStart};
};

Key AuthJwksRefresh::old_, AuthJwksRefresh::new_;

TEST_F(AuthJwksRefresh, PeriodicRefreshEveryTenMinutes)
{
    auto v = Make();
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::NotDue);
    now_ = kStart + kJwksRefreshSeconds - 1;
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::NotDue);
    EXPECT_EQ(server_.fetches, 0);
    now_ = kStart + kJwksRefreshSeconds;
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::Refreshed);
    EXPECT_EQ(server_.fetches, 1);
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::NotDue);
    now_ = kStart + 2 * kJwksRefreshSeconds;
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::Refreshed);
    EXPECT_EQ(server_.fetches, 2);
}

TEST_F(AuthJwksRefresh, RotationNewKidAcceptedAfterRefresh)
{
    auto v = Make();
    server_.Serve(Jwks({EcJwk(old_.get(), "old"), EcJwk(new_.get(), "new")}));
    // Within the first minute a new kid causes no fetch (rate limit)...
    now_ = kStart + 30;
    const std::string token = Es256Token(new_.get(), "new", now_);
    EXPECT_EQ(v->verify_token(token).failure, Failure::UnknownKey);
    EXPECT_EQ(server_.fetches, 0);
    // ...after it, the unknown kid makes the verifier fetch the JWKS again.
    now_ = kStart + kJwksUnknownKidRefreshSeconds;
    const auto result = v->verify_token(Es256Token(new_.get(), "new", now_));
    ASSERT_TRUE(result.ok()) << to_string(result.failure);
    EXPECT_EQ(result.principal->user_id, kUser);
    EXPECT_EQ(server_.fetches, 1);
    EXPECT_EQ(v->jwks_summary().usable, 2u);
}

TEST_F(AuthJwksRefresh, RemovedKidRefusedAfterRefresh)
{
    auto v = Make();
    const std::string old_token = Es256Token(old_.get(), "old", kStart);
    const auto before = v->verify_token(old_token);
    ASSERT_TRUE(before.ok());
    // A verdict from a refreshed JWKS is cacheable only until the next refresh.
    EXPECT_EQ(before.principal->accept_until, kStart + kJwksRefreshSeconds);

    server_.Serve(Jwks({EcJwk(new_.get(), "new")}));  // the old key is revoked
    now_ = kStart + kJwksRefreshSeconds;
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::Refreshed);
    EXPECT_EQ(v->verify_token(old_token).failure, Failure::UnknownKey);
    EXPECT_TRUE(v->verify_token(Es256Token(new_.get(), "new", now_)).ok());
}

TEST_F(AuthJwksRefresh, UnknownKidRefreshAtMostOncePerMinute)
{
    Key stranger(EVP_EC_gen("P-256"));
    auto v = Make();
    now_ = kStart + kJwksUnknownKidRefreshSeconds;
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(v->verify_token(Es256Token(stranger.get(), "kid-" + std::to_string(i), now_)).failure,
                  Failure::UnknownKey);
    EXPECT_EQ(server_.fetches, 1);
    now_ += kJwksUnknownKidRefreshSeconds - 1;
    EXPECT_EQ(v->verify_token(Es256Token(stranger.get(), "other", now_)).failure, Failure::UnknownKey);
    EXPECT_EQ(server_.fetches, 1);
    now_ += 1;
    EXPECT_EQ(v->verify_token(Es256Token(stranger.get(), "other", now_)).failure, Failure::UnknownKey);
    EXPECT_EQ(server_.fetches, 2);
    // A known kid never causes a fetch.
    now_ += kJwksUnknownKidRefreshSeconds;
    EXPECT_TRUE(v->verify_token(Es256Token(old_.get(), "old", now_)).ok());
    EXPECT_EQ(server_.fetches, 2);
}

TEST_F(AuthJwksRefresh, ConcurrentUnknownKidsShareOneFetch)
{
    Key stranger(EVP_EC_gen("P-256"));
    auto v = Make();
    now_ = kStart + kJwksUnknownKidRefreshSeconds;
    const std::string token = Es256Token(stranger.get(), "stranger", now_);
    const std::string good = Es256Token(old_.get(), "old", now_);
    std::atomic<int> accepted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                v->verify_token(token);
                accepted += v->verify_token(good).ok() ? 1 : 0;
                v->refresh_jwks_if_due();
            }
        });
    for (auto &t : threads)
        t.join();
    EXPECT_EQ(server_.fetches, 1);
    EXPECT_EQ(accepted.load(), 80);
}

TEST_F(AuthJwksRefresh, AFailedRefreshKeepsTheLastGoodKeySet)
{
    auto v = Make();
    const std::string old_token = Es256Token(old_.get(), "old", kStart);
    server_.down = true;
    now_ = kStart + kJwksRefreshSeconds;
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::Failed);
    EXPECT_TRUE(v->verify_token(old_token).ok());
    EXPECT_EQ(v->jwks_refresh_stats().failures, 1u);
    EXPECT_NE(v->jwks_refresh_stats().last_error.find("503"), std::string::npos);
    // A document that is not a usable JWKS is a failure too.
    server_.down = false;
    server_.Serve("{\"keys\": 5}");
    now_ += kJwksRetrySeconds;  // a failed fetch is tried again a minute later
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::Failed);
    EXPECT_TRUE(v->verify_token(old_token).ok());
    server_.Serve(Jwks({EcJwk(old_.get(), "old")}));
    now_ += kJwksRetrySeconds;
    EXPECT_EQ(v->refresh_jwks_if_due(), JwksRefresh::Refreshed);
    EXPECT_EQ(server_.fetches, 3);
}

TEST_F(AuthJwksRefresh, WithoutAFetcherNothingIsFetched)
{
    VerifierConfig c;
    c.jwks_json = Jwks({EcJwk(old_.get(), "old")});
    c.clock = [] { return kStart + 10 * kJwksRefreshSeconds; };
    Verifier v(std::move(c));
    EXPECT_EQ(v.refresh_jwks_if_due(), JwksRefresh::NotConfigured);
    const auto r = v.verify_token(Es256Token(old_.get(), "old", kStart + 10 * kJwksRefreshSeconds));
    ASSERT_TRUE(r.ok());
    EXPECT_GT(r.principal->accept_until, kStart + 10 * kJwksRefreshSeconds + 3000);  // exp + leeway
}

TEST_F(AuthJwksRefresh, TheBackgroundRefresherAsksTheVerifier)
{
    auto v = Make();
    now_ = kStart + kJwksRefreshSeconds;
    std::atomic<int> refreshed{0};
    {
        JwksRefresher refresher(*v, std::chrono::milliseconds(5), [&](JwksRefresh outcome, const std::string &) {
            if (outcome == JwksRefresh::Refreshed)
                ++refreshed;
        });
        for (int i = 0; i < 400 && refreshed == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(refreshed.load(), 1);  // the clock stands still: due once
    EXPECT_EQ(server_.fetches, 1);
}

TEST(AuthAdminKey, AtLeastThirtyTwoBytes)
{
    VerifierConfig c;
    c.hs256_secret = std::string(32, 's');
    c.admin_api_key = "admin";
    EXPECT_THROW(Verifier{c}, ConfigError);
    c.admin_api_key = std::string(31, 'a');
    try {
        Verifier v{c};
        ADD_FAILURE() << "a 31-byte ADMIN_API_KEY was accepted";
    } catch (const ConfigError &e) {
        EXPECT_NE(std::string(e.what()).find("ADMIN_API_KEY"), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find(c.admin_api_key), std::string::npos);
    }
    c.admin_api_key = std::string(32, 'a');
    const Verifier v{c};
    EXPECT_TRUE(v.authenticate("Bearer " + std::string(32, 'a')).ok());
}

}  // namespace
}  // namespace nw::auth
