// The C++ side of the boundary guard (core/guard.hpp): every kind of
// throw becomes an Outcome, nothing escapes.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/guard.hpp"
#include "core/validation.hpp"

namespace {

TEST(RunGuarded, SuccessLeavesOk)
{
    int calls = 0;
    const nw::Outcome o = nw::RunGuarded("t", [&](nw::Outcome *) { ++calls; });
    EXPECT_TRUE(o.ok);
    EXPECT_EQ(calls, 1);
}

TEST(RunGuarded, RefusalsKeepTheirSqlstate)
{
    const nw::Outcome o = nw::RunGuarded("t", [](nw::Outcome *out) { nw::SetFailure(out, "22023", "bad", "Why."); });
    EXPECT_FALSE(o.ok);
    EXPECT_STREQ(o.sqlstate, "22023");
    EXPECT_STREQ(o.message, "bad");
    EXPECT_STREQ(o.detail, "Why.");
}

TEST(RunGuarded, StdExceptionIsAnInternalError)
{
    const nw::Outcome o = nw::RunGuarded("parser", [](nw::Outcome *) { throw std::runtime_error("boom"); });
    EXPECT_FALSE(o.ok);
    EXPECT_STREQ(o.sqlstate, "XX000");
    EXPECT_STREQ(o.message, "internal error in parser: boom");
}

TEST(RunGuarded, BadAllocIsOutOfMemory)
{
    const nw::Outcome o = nw::RunGuarded("t", [](nw::Outcome *) { throw std::bad_alloc(); });
    EXPECT_STREQ(o.sqlstate, "53200");
}

TEST(RunGuarded, NonStdThrowIsCaught)
{
    const nw::Outcome o = nw::RunGuarded("t", [](nw::Outcome *) { throw 42; });
    EXPECT_FALSE(o.ok);
    EXPECT_STREQ(o.sqlstate, "XX000");
    EXPECT_STREQ(o.message, "internal error in t: unknown exception");
}

TEST(RunGuarded, LongMessagesAreTruncatedNotOverflowed)
{
    const std::string huge(10000, 'x');
    const nw::Outcome o = nw::RunGuarded("t", [&](nw::Outcome *) { throw std::runtime_error(huge); });
    EXPECT_EQ(std::string(o.message).size(), sizeof o.message - 1);
}

}  // namespace

// NW_NOTHROW: the value passes through, and only noexcept calls compile.
TEST(NoThrowCall, PassesTheValueThrough)
{
    EXPECT_TRUE(NW_NOTHROW(nw::IsE164("+14155550100")));
    EXPECT_FALSE(NW_NOTHROW(nw::IsE164("14155550100")));
    EXPECT_TRUE(NW_NOTHROW(nw::IsFreeText("a note", 10)));
}
// What allocates is not noexcept, so NW_NOTHROW(nw::FormatCents(1)) would not compile.
static_assert(!noexcept(nw::FormatCents(1)), "FormatCents allocates: glue must call it through RunGuarded");
static_assert(noexcept(nw::IsCurrency("USD")), "the validators are noexcept (core/validation.hpp)");
