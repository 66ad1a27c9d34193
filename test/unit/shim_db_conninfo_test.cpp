// DATABASE_URL reaches libpq whole (shim/db/pool.*): its options apply, the
// shim adds only what it must, and an option libpq does not know is a start-up
// error instead of being dropped.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <map>

#include "db/pool.hpp"

namespace {

std::map<std::string, std::string> AsMap(const nw::db::ConnectParams &p)
{
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < p.keys.size(); ++i) {
        EXPECT_EQ(out.count(p.keys[i]), 0u) << "keyword given twice: " << p.keys[i];
        out[p.keys[i]] = p.values[i];
    }
    return out;
}

// What libpq makes of the parameters, without a server: a non-blocking start
// towards a closed loopback port, then the options the connection object holds.
std::map<std::string, std::string> Effective(const nw::db::ConnectParams &p)
{
    std::vector<const char *> keys, values;
    for (std::size_t i = 0; i < p.keys.size(); ++i) {
        keys.push_back(p.keys[i].c_str());
        values.push_back(p.values[i].c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn *conn = PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/1);
    std::map<std::string, std::string> out;
    if (PQconninfoOption *info = conn ? PQconninfo(conn) : nullptr) {
        for (PQconninfoOption *o = info; o->keyword != nullptr; ++o)
            if (o->val != nullptr)
                out[o->keyword] = o->val;
        PQconninfoFree(info);
    }
    PQfinish(conn);
    return out;
}

class ShimDbConninfo : public ::testing::Test {
protected:
    void SetUp() override
    {
        for (const char *name : {"PGAPPNAME", "PGCONNECT_TIMEOUT", "PGOPTIONS"})
            unsetenv(name);
    }
};

TEST_F(ShimDbConninfo, EveryOptionOfAUriReachesLibpq)
{
    const std::string url = "postgresql://shim@127.0.0.1:1/wallet?sslmode=require&application_name=billing"
                            "&target_session_attrs=read-write&options=-c%20statement_timeout%3D5s&connect_timeout=3";
    const auto params = nw::db::BuildConnectParams(url, "twilio");
    const auto given = AsMap(params);
    EXPECT_EQ(given.at("dbname"), url);  // whole, expanded by libpq
    EXPECT_EQ(given.count("application_name"), 0u);
    EXPECT_EQ(given.count("connect_timeout"), 0u);
    EXPECT_EQ(given.at("options"), "-c statement_timeout=5s -c number_wallet.provider=twilio");

    const auto effective = Effective(params);
    EXPECT_EQ(effective.at("sslmode"), "require");
    EXPECT_EQ(effective.at("application_name"), "billing");
    EXPECT_EQ(effective.at("target_session_attrs"), "read-write");
    EXPECT_EQ(effective.at("connect_timeout"), "3");
    EXPECT_EQ(effective.at("options"), "-c statement_timeout=5s -c number_wallet.provider=twilio");
    EXPECT_EQ(effective.at("dbname"), "wallet");
    EXPECT_EQ(effective.at("user"), "shim");
}

TEST_F(ShimDbConninfo, AKeyValueStringWorksToo)
{
    const auto params = nw::db::BuildConnectParams(
        "host=127.0.0.1 port=1 dbname=wallet sslmode=disable options='-c work_mem=8MB'", "simulator");
    const auto effective = Effective(params);
    EXPECT_EQ(effective.at("dbname"), "wallet");
    EXPECT_EQ(effective.at("sslmode"), "disable");
    EXPECT_EQ(effective.at("options"), "-c work_mem=8MB -c number_wallet.provider=simulator");
    EXPECT_EQ(effective.at("application_name"), "number-wallet-shim");  // added when absent
    EXPECT_EQ(effective.at("connect_timeout"), "5");
}

TEST_F(ShimDbConninfo, WithoutOptionsTheShimAddsItsOwn)
{
    const auto effective = Effective(nw::db::BuildConnectParams("postgresql://127.0.0.1:1/wallet", "twilio"));
    EXPECT_EQ(effective.at("options"), "-c number_wallet.provider=twilio");
    EXPECT_EQ(effective.at("application_name"), "number-wallet-shim");
    // A bare database name is a database name.
    EXPECT_EQ(AsMap(nw::db::BuildConnectParams("wallet", "twilio")).at("dbname"), "wallet");
}

TEST_F(ShimDbConninfo, AnUnknownOptionIsAStartUpError)
{
    for (const char *bad :
         {"postgresql://u:hunter2@127.0.0.1/wallet?sslmod=require", "host=127.0.0.1 password=hunter2 sslmod=require"}) {
        try {
            nw::db::BuildConnectParams(bad, "twilio");
            ADD_FAILURE() << "accepted " << bad;
        } catch (const std::runtime_error &e) {
            const std::string message = e.what();
            EXPECT_NE(message.find("DATABASE_URL"), std::string::npos) << message;
            EXPECT_NE(message.find("sslmod"), std::string::npos) << message;
            EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
        }
        // The pool checks at once, before any connection is made.
        EXPECT_THROW(nw::db::Pool(bad, 1, "twilio"), std::runtime_error) << bad;
    }
    EXPECT_THROW(nw::db::BuildConnectParams("host=127.0.0.1 password='hunter2", "twilio"), std::runtime_error);
}

}  // namespace
