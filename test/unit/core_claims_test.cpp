// request.jwt.claims parsing (core/claims.*).
#include <gtest/gtest.h>

#include "core/claims.hpp"

namespace {

TEST(ClaimedSubject, ReadsAUuidSub)
{
    EXPECT_EQ(nw::ClaimedSubject(R"({"sub":"00000000-0000-0000-0000-00000000A11C","role":"authenticated"})"),
              "00000000-0000-0000-0000-00000000a11c");
}

TEST(ClaimedSubject, GainsNothingFromAnythingElse)
{
    EXPECT_EQ(nw::ClaimedSubject(R"({"role":"service_role"})"), "");
    EXPECT_EQ(nw::ClaimedSubject(R"({"sub":"not-a-uuid"})"), "");
    EXPECT_EQ(nw::ClaimedSubject(R"({"sub":42})"), "");
    EXPECT_EQ(nw::ClaimedSubject(R"({"sub":null})"), "");
    EXPECT_EQ(nw::ClaimedSubject(R"(["00000000-0000-0000-0000-00000000a11c"])"), "");
    EXPECT_EQ(nw::ClaimedSubject("{not json"), "");
    EXPECT_EQ(nw::ClaimedSubject(""), "");
    EXPECT_EQ(nw::ClaimedSubject(std::string(70000, ' ')), "");
}

}  // namespace
