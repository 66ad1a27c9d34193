// The pool's failover rules (shim/db/failover.*, pool.*): which failed calls
// surely did nothing, which may have committed, and what is run again.
#include <gtest/gtest.h>

#include <chrono>
#include <type_traits>

#include "db/failover.hpp"
#include "db/pool.hpp"
#include "db/admin_statements.hpp"

namespace {

using nw::db::Attempt;
using nw::db::Classify;
using nw::db::Decide;
using nw::db::Fate;
using nw::db::RetryPolicy;
using std::chrono::milliseconds;

Attempt Sent(const std::string &sqlstate, bool connection_ok)
{
    Attempt a;
    a.connected = true;
    a.sent = true;
    a.sqlstate = sqlstate;
    a.connection_ok = connection_ok;
    return a;
}

TEST(FailoverClassify, NoConnectionMeansNothingRan)
{
    Attempt a;  // could not connect to any writable host
    a.sqlstate = "08006";
    EXPECT_EQ(Classify(a), Fate::kNotSent);
}

TEST(FailoverClassify, BrokenBeforeTheStatementWentOutMeansNothingRan)
{
    Attempt a;
    a.connected = true;  // e.g. PREPARE or the send failed on a dead socket
    EXPECT_EQ(Classify(a), Fate::kNotSent);
}

TEST(FailoverClassify, AnAnswerIsDone)
{
    Attempt a = Sent("", true);
    a.answered = true;
    EXPECT_EQ(Classify(a), Fate::kDone);
}

TEST(FailoverClassify, ReadOnlyServerRefusedTheWrite)
{
    EXPECT_EQ(Classify(Sent("25006", true)), Fate::kReadOnly);
    EXPECT_EQ(Classify(Sent("25006", false)), Fate::kReadOnly);
}

TEST(FailoverClassify, AnErrorOnAHealthyConnectionRolledBack)
{
    EXPECT_EQ(Classify(Sent("40001", true)), Fate::kRolledBack);
    EXPECT_EQ(Classify(Sent("NW001", true)), Fate::kRolledBack);
    EXPECT_EQ(Classify(Sent("57014", true)), Fate::kRolledBack);
}

TEST(FailoverClassify, ConnectionLostAfterSendingIsUnknown)
{
    // The server closed the socket mid-call (a crash, kill -9): no SQLSTATE.
    EXPECT_EQ(Classify(Sent("", false)), Fate::kUnknown);
    // A terminate during COMMIT's wait for the standby: committed locally, maybe.
    EXPECT_EQ(Classify(Sent("57P01", false)), Fate::kUnknown);
    EXPECT_EQ(Classify(Sent("57P01", true)), Fate::kUnknown);
    EXPECT_EQ(Classify(Sent("08006", true)), Fate::kUnknown);
    // An error with a SQLSTATE, but the connection died with it.
    EXPECT_EQ(Classify(Sent("40001", false)), Fate::kUnknown);
}

RetryPolicy Policy(bool repeatable, int wait_ms = 20000)
{
    RetryPolicy p;
    p.repeatable = repeatable;
    p.failover_wait = milliseconds(wait_ms);
    return p;
}

TEST(FailoverDecide, UnknownFateIsNeverRepeatedBlindly)
{
    const auto d = Decide(Fate::kUnknown, "", Policy(false), 1, milliseconds(0));
    EXPECT_FALSE(d.retry);
    EXPECT_EQ(d.report_sqlstate, "08007");
}

TEST(FailoverDecide, UnknownFateOfARepeatableCallWaitsForThePrimary)
{
    const auto d = Decide(Fate::kUnknown, "", Policy(true), 1, milliseconds(0));
    EXPECT_TRUE(d.retry);
    EXPECT_GT(d.delay.count(), 0);
    EXPECT_LE(d.delay.count(), 1000);
}

TEST(FailoverDecide, NotSentAndReadOnlyWaitForThePrimaryWhateverTheStatement)
{
    for (bool repeatable : {false, true}) {
        EXPECT_TRUE(Decide(Fate::kNotSent, "08006", Policy(repeatable), 3, milliseconds(5000)).retry);
        EXPECT_TRUE(Decide(Fate::kReadOnly, "25006", Policy(repeatable), 3, milliseconds(5000)).retry);
    }
}

TEST(FailoverDecide, TheWaitIsBoundedAndReportsWhy)
{
    const auto gone = Decide(Fate::kNotSent, "08006", Policy(true, 20000), 40, milliseconds(19950));
    EXPECT_FALSE(gone.retry);
    EXPECT_EQ(gone.report_sqlstate, "08006");
    const auto read_only = Decide(Fate::kReadOnly, "25006", Policy(true, 20000), 40, milliseconds(20000));
    EXPECT_FALSE(read_only.retry);
    EXPECT_EQ(read_only.report_sqlstate, "25006");
    const auto unknown = Decide(Fate::kUnknown, "", Policy(true, 20000), 40, milliseconds(25000));
    EXPECT_FALSE(unknown.retry);
    EXPECT_EQ(unknown.report_sqlstate, "08007");
}

TEST(FailoverDecide, TheWaitCoversAtLeastTwentySecondsByDefault)
{
    // A keyed call keeps looking for a primary for the contract's 20 s.
    RetryPolicy p;
    p.repeatable = true;
    milliseconds elapsed(0);
    int attempt = 1;
    for (;; ++attempt) {
        const auto d = Decide(Fate::kNotSent, "08006", p, attempt, elapsed);
        if (!d.retry)
            break;
        ASSERT_LE(d.delay.count(), 1000) << "looks at least every second";
        elapsed += d.delay;
    }
    EXPECT_GE(elapsed.count(), 20000);
    EXPECT_LT(elapsed.count(), 60000);
}

TEST(FailoverDecide, TransientRollbacksAreRetriedAFewTimesOnly)
{
    EXPECT_TRUE(Decide(Fate::kRolledBack, "40001", Policy(false), 1, milliseconds(0)).retry);
    EXPECT_TRUE(Decide(Fate::kRolledBack, "40P01", Policy(false), 3, milliseconds(0)).retry);
    const auto last = Decide(Fate::kRolledBack, "40001", Policy(false), 4, milliseconds(0));
    EXPECT_FALSE(last.retry);
    EXPECT_EQ(last.report_sqlstate, "40001");
}

TEST(FailoverDecide, DefiniteErrorsAndSuccessAreFinal)
{
    const auto refused = Decide(Fate::kRolledBack, "NW001", Policy(true), 1, milliseconds(0));
    EXPECT_FALSE(refused.retry);
    EXPECT_EQ(refused.report_sqlstate, "NW001");
    EXPECT_FALSE(Decide(Fate::kDone, "", Policy(true), 1, milliseconds(0)).retry);
}

TEST(FailoverStatements, OnlyWhatReplaysIsMarkedSafeToRepeat)
{
    namespace sql = nw::db::sql;
    using nw::db::Repeat;
    // No default: a statement that does not say Repeat::kSafe or kUnsafe does not compile.
    static_assert(!std::is_constructible_v<nw::db::Statement, const char *, const char *>);
    static_assert(std::is_constructible_v<nw::db::Statement, const char *, const char *, Repeat>);
    const nw::db::Statement plain = {"x", "SELECT 1", Repeat::kUnsafe};
    EXPECT_FALSE(plain.safe_to_repeat());
    // Keyed (an idempotency key always travels with them) or replayed by the SQL contract.
    for (const auto *s :
         {&sql::kPurchase, &sql::kCredit, &sql::kConfirm, &sql::kFail, &sql::kRelease, &sql::kMarkReleased,
          &sql::kNumberById, &sql::kWallet, &sql::kAdjustBalance, &sql::kAdminNumbers, &sql::kAuditLog})
        EXPECT_TRUE(s->safe_to_repeat()) << s->name;
    // Session-level locks stack: a second pg_advisory_lock would need two unlocks.
    // The audited operator actions answer their own run, or 503 (admin_statements.hpp).
    for (const auto *s : {&sql::kAdvisoryLock, &sql::kAdvisoryTryLock, &sql::kAdvisoryUnlock, &sql::kForceFail,
                          &sql::kForceConfirm, &sql::kForceRelease, &sql::kResolveDiscrepancy})
        EXPECT_FALSE(s->safe_to_repeat()) << s->name;
}

TEST(FailoverPool, WaitsForAWritablePrimaryThenReportsItUnreachable)
{
    // Nothing listens on port 1: every look fails before sending anything.
    nw::db::Pool pool("host=127.0.0.1,127.0.0.1 port=1,1 dbname=x connect_timeout=1", 2, "simulator");
    const nw::db::Statement select = {"select_one", "SELECT 1", nw::db::Repeat::kSafe};
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = pool.ExecWithin(select, {}, milliseconds(700));
    const auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error.sqlstate, "08006");
    EXPECT_FALSE(r.after_unknown);
    EXPECT_GE(took.count(), 300) << "looked more than once";
    EXPECT_LT(took.count(), 5000) << "the wait is bounded";
    EXPECT_TRUE(nw::db::IsTransient(r.error.sqlstate));
    EXPECT_TRUE(nw::db::IsTransient("08007"));
    EXPECT_TRUE(nw::db::IsTransient("25006"));
    EXPECT_EQ(pool.Node(), "");
}

}  // namespace
