// test/stress/driver.cpp: the SQL load of the stress test (issue 4).
//
// Many threads, one libpq connection each (statements prepared once per
// connection, re-prepared after a reconnect), doing random operations on few
// users and few phone numbers so that almost every call contends:
// credits (always with idempotency keys; some replayed, some reused with
// another amount, some shared between threads), purchases (some with keys,
// some replayed, some keys shared between threads), confirms and fails of
// pending rows, releases (some by the wrong user), provider deletions,
// renewals, renewals falling due (paid_until moved into the past as
// superuser), adjustments, refund quotes and replays of every state change.
//
// Nothing is judged here except what only the caller can see (a replay
// that did not say so, a reuse that was accepted); the database is checked
// afterwards by test/stress/invariants.sql, from the files this writes:
//   told_topups.csv      user_id,key,amount,currency   credits the caller was told succeeded
//   uncertain_topups.csv user_id,key                   credits whose answer was lost (connection)
//   told_purchases.csv   number_id,user_id,phone       purchases the caller was told succeeded
//   sqlstates.csv        op,sqlstate,count              every outcome ("ok", "conn", a SQLSTATE)
//   client_violations.csv check,detail
// and prints one summary line: "ops=N ok=N conn=N violations=N states=…".
//
// Build: g++ -std=c++17 -O2 -pthread driver.cpp -I$(pg_config --includedir) -lpq
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string conninfo;
    int threads = 8;
    double seconds = 10;
    int users = 5;
    int phones = 20;
    unsigned seed = 1;
    std::string out = ".";
    bool crashTolerant = false;  // connection loss is expected (the server is being killed)
    std::string userPrefix = "5eed0000-0000-4000-8000-";
    std::string phonePrefix = "+1202555";  // + 4 digits from 0100
};

const std::set<std::string> kContract = {"NW001", "NW002", "NW003", "NW004", "NW005", "NW006", "22023",
                                         "22003", "42501", "40001", "40P01", "55P03", "57014"};

const std::string kNull = std::string("\x01NULL");  // a parameter sent as SQL NULL

struct TopUp {
    std::string user, key, amount, currency;
};

struct ThreadResult {
    std::map<std::pair<std::string, std::string>, long> outcomes;  // (op, state) -> count
    std::vector<TopUp> told, uncertain;
    std::vector<std::string> toldPurchases;  // "number_id,user_id,phone"
    std::vector<std::pair<std::string, std::string>> violations;
    long ops = 0;
};

struct Statement {
    const char *name;
    const char *sql;
};

// Every statement the driver runs. Jsonb results are taken apart in SQL.
const Statement kStatements[] = {
    {"credit", "SELECT r->>'replayed' FROM number_wallet.wallet_credit($1::uuid, $2::numeric, $3, 'Top-up', $4) r"},
    {"purchase", "SELECT r->>'number_id', r->>'replayed' FROM number_wallet.purchase_number($1::uuid, $2, $3::numeric, "
                 "$4, NULL, $5) r"},
    {"pick_pending",
     "SELECT id FROM number_wallet.business_numbers WHERE status = 'pending' ORDER BY random() LIMIT 1"},
    {"confirm", "SELECT r->>'replayed' FROM number_wallet.confirm_purchase($1::uuid, $2) r"},
    {"fail", "SELECT r->>'replayed' FROM number_wallet.fail_purchase($1::uuid, $2) r"},
    {"pick_active", "SELECT id, user_id, twilio_sid FROM number_wallet.business_numbers WHERE status = 'active' "
                    "ORDER BY random() LIMIT 1"},
    {"release",
     "SELECT r->>'replayed', r->'refund'->>'issued' FROM number_wallet.release_number($1::uuid, $2::uuid) r"},
    {"pick_released",
     "SELECT id FROM number_wallet.business_numbers WHERE status = 'released' AND provider_released_at IS NULL "
     "ORDER BY random() LIMIT 1"},
    {"mark", "SELECT r->>'replayed' FROM number_wallet.mark_provider_released($1::uuid) r"},
    // A random row through the primary key (uuids are random): cheap however big the table grows.
    {"pick_any", "(SELECT id, user_id, status, coalesce(twilio_sid, ''), (provider_released_at IS NOT NULL)::text "
                 " FROM number_wallet.business_numbers WHERE id >= gen_random_uuid() ORDER BY id LIMIT 1) UNION ALL "
                 "(SELECT id, user_id, status, coalesce(twilio_sid, ''), (provider_released_at IS NOT NULL)::text "
                 " FROM number_wallet.business_numbers ORDER BY id LIMIT 1) LIMIT 1"},
    {"renew", "SELECT r::text FROM number_wallet.renew_due_numbers($1::int) r"},
    // A number falls due, and an hour passes for it (an unpaid one may be retried, and released after the grace).
    {"due",
     "UPDATE number_wallet.business_numbers SET paid_until = statement_timestamp() - $1::interval, "
     "renewal_attempted_at = renewal_attempted_at - interval '1 hour' "
     "WHERE id = (SELECT id FROM number_wallet.business_numbers WHERE status = 'active' ORDER BY random() LIMIT 1)"},
    {"due_user",
     "UPDATE number_wallet.business_numbers SET paid_until = statement_timestamp() - $1::interval, "
     "renewal_attempted_at = renewal_attempted_at - interval '1 hour' "
     "WHERE id = (SELECT id FROM number_wallet.business_numbers WHERE status = 'active' AND user_id = $2::uuid "
     "ORDER BY random() LIMIT 1)"},
    {"drain", "SELECT (number_wallet.update_wallet_balance_atomic(w.id, -w.balance_usd, 'USD')).balance_usd "
              "FROM number_wallet.wallets w WHERE w.user_id = $1::uuid AND w.balance_usd > 0"},
    {"adjust", "SELECT (w).balance_usd FROM (SELECT number_wallet.update_wallet_balance_atomic("
               "(SELECT id FROM number_wallet.wallets WHERE user_id = $1::uuid), $2::numeric, $3) w) s"},
    {"quote", "SELECT r::text FROM number_wallet.refund_quote($1::uuid) r"},
};

class Worker {
public:
    Worker(const Options &o, int index, Clock::time_point deadline)
        : o_(o), index_(index), deadline_(deadline), rng_(o.seed * 7919u + index)
    {
    }

    ThreadResult run()
    {
        while (Clock::now() < deadline_) {
            if (!connected()) {
                if (!connect()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                    continue;
                }
            }
            step();
        }
        if (conn_)
            PQfinish(conn_);
        return std::move(r_);
    }

private:
    // ---- connection --------------------------------------------------------
    bool connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

    bool connect()
    {
        if (conn_)
            PQfinish(conn_);
        conn_ = PQconnectdb(o_.conninfo.c_str());
        if (PQstatus(conn_) != CONNECTION_OK) {
            if (!o_.crashTolerant && !reportedConnect_) {
                violation("connect", PQerrorMessage(conn_));
                reportedConnect_ = true;
            }
            return false;
        }
        PQsetNoticeProcessor(
            conn_, [](void *, const char *) {}, nullptr);
        for (const auto &s : kStatements) {
            PGresult *res = PQprepare(conn_, s.name, s.sql, 0, nullptr);
            bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            std::string err = ok ? "" : PQresultErrorMessage(res);
            PQclear(res);
            if (!ok) {
                if (!o_.crashTolerant)
                    violation("prepare " + std::string(s.name), err);
                return false;
            }
        }
        return true;
    }

    // ---- running one statement ---------------------------------------------
    struct Outcome {
        bool ok = false;
        bool conn = false;  // the answer was lost: connection gone
        std::string state;  // SQLSTATE on error
        std::vector<std::vector<std::string>> rows;
    };

    Outcome exec(const std::string &op, const char *stmt, std::vector<std::string> params)
    {
        std::vector<const char *> values;
        for (auto &p : params)
            values.push_back(p == kNull ? nullptr : p.c_str());
        Outcome out;
        PGresult *res = PQexecPrepared(conn_, stmt, (int) values.size(), values.data(), nullptr, nullptr, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            out.ok = true;
            for (int i = 0; i < PQntuples(res); ++i) {
                std::vector<std::string> row;
                for (int j = 0; j < PQnfields(res); ++j)
                    row.emplace_back(PQgetisnull(res, i, j) ? "" : PQgetvalue(res, i, j));
                out.rows.push_back(std::move(row));
            }
        } else {
            const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
            out.state = sqlstate ? sqlstate : "";
            std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
            bool lost = PQstatus(conn_) != CONNECTION_OK || out.state.empty() || out.state.rfind("08", 0) == 0 ||
                        out.state == "57P01" || out.state == "57P02" || out.state == "57P03";
            if (lost) {
                out.conn = true;
                if (!o_.crashTolerant)
                    violation("connection lost during " + op, out.state + " " + msg);
            } else if (!kContract.count(out.state) || out.state == "40P01") {
                violation("sqlstate outside the contract (or a deadlock) in " + op, out.state + " " + msg);
            }
        }
        PQclear(res);
        ++r_.ops;
        r_.outcomes[{op, out.ok ? "ok" : out.conn ? "conn" : out.state}]++;
        return out;
    }

    void violation(const std::string &check, std::string detail)
    {
        for (char &c : detail)
            if (c == '\n' || c == ',' || c == '"')
                c = ' ';
        if (r_.violations.size() < 200)
            r_.violations.emplace_back(check, detail);
    }

    // ---- random choices ----------------------------------------------------
    int rand(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool chance(int percent) { return rand(100) < percent; }
    std::string user(int i)
    {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%012d", i + 1);
        return o_.userPrefix + buf;
    }
    std::string RandomUser() { return user(rand(o_.users)); }
    std::string phone(int i)
    {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%04d", 100 + i);
        return o_.phonePrefix + buf;
    }
    std::string money(int cents)
    {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%d.%02d", cents / 100, cents % 100);
        return buf;
    }
    std::string hex(int n)
    {
        static const char *digits = "0123456789abcdef";
        std::string s;
        for (int i = 0; i < n; ++i)
            s += digits[rand(16)];
        return s;
    }
    std::string key(const char *kind)
    {
        return std::string(kind) + "-" + std::to_string(o_.seed) + "-" + std::to_string(index_) + "-" +
               std::to_string(++keySeq_);
    }
    // A key shared by all threads for a short while, so concurrent calls race on it.
    long SharedSlot()
    {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count() / 250;
    }

    // ---- operations -----------------------------------------------------------
    void step()
    {
        int w = rand(100);
        if (w < 20)
            credit();
        else if (w < 44)
            purchase();
        else if (w < 58)
            confirm();
        else if (w < 65)
            fail();
        else if (w < 75)
            release();
        else if (w < 81)
            mark();
        else if (w < 90)
            replay();
        else if (w < 93)
            renew();
        else if (w < 96)
            due();
        else if (w < 98)
            adjust();
        else
            quote();
    }

    void credit()
    {
        TopUp t;
        std::string expectState;  // what a careful caller must see
        bool expectReplay = false;
        int k = rand(100);
        if (k < 15 && !myTold_.empty()) {  // replay one of ours
            t = myTold_[rand((int) myTold_.size())];
            expectReplay = true;
        } else if (k < 22 && !myTold_.empty()) {  // reuse a key with another amount: NW006
            t = myTold_[rand((int) myTold_.size())];
            std::string digits = t.amount;
            digits.erase(digits.find('.'), 1);
            t.amount = money(std::stoi(digits) + 1);
            expectState = "NW006";
        } else if (k < 35) {  // a key every thread uses for 250 ms
            long slot = SharedSlot();
            t.user = user((int) (slot % (o_.users - 1)));
            t.key = "shared-credit-" + std::to_string(o_.seed) + "-" + std::to_string(slot);
            t.amount = money(100 + (int) (slot % 900));
            t.currency = "USD";
        } else {
            t.user = RandomUser();
            t.key = key("credit");
            // The last user is kept poor: its renewals go unpaid and are released after the grace.
            t.amount = money(t.user == user(o_.users - 1) ? 20 + rand(120) : 50 + rand(1500));
            t.currency = chance(15) ? "INR" : "USD";
        }
        Outcome o = exec("credit", "credit", {t.user, t.amount, t.currency, t.key});
        if (o.ok) {
            if (!expectState.empty()) {
                violation("credit key reused with another amount was accepted", t.user + " " + t.key + " " + t.amount);
                return;
            }
            bool replayed = !o.rows.empty() && o.rows[0][0] == "true";
            if (expectReplay && !replayed)
                violation("credit replay not reported as replayed", t.user + " " + t.key);
            r_.told.push_back(t);
            if (!expectReplay)
                myTold_.push_back(t);
        } else if (o.conn) {
            r_.uncertain.push_back(t);
        } else if (expectReplay && o.state != "40001" && o.state != "55P03" && o.state != "57014") {
            violation("credit replay refused", t.user + " " + t.key + " " + o.state);
        } else if (!expectState.empty() && o.state != expectState && o.state != "40001" && o.state != "55P03") {
            violation("credit key reused with another amount", "expected " + expectState + " got " + o.state);
        }
    }

    void purchase()
    {
        std::string u = RandomUser(), ph = phone(rand(o_.phones)), currency = "USD", k;
        std::string cost = money(chance(50) ? 115 : 100 + rand(300));
        int c = rand(100);
        if (c < 10 && !myPurchaseKeys_.empty()) {  // replay one of ours
            auto &p = myPurchaseKeys_[rand((int) myPurchaseKeys_.size())];
            u = p[0];
            ph = p[1];
            cost = p[2];
            currency = p[3];
            k = p[4];
        } else if (c < 20) {  // a key every thread uses for 250 ms
            long slot = SharedSlot();
            u = user((int) (slot % o_.users));
            ph = phone((int) (slot % o_.phones));
            cost = "1.15";
            k = "shared-purchase-" + std::to_string(o_.seed) + "-" + std::to_string(slot);
        } else if (c < 60) {
            k = key("purchase");
        } else if (c < 65) {
            currency = "INR";
            cost = money(8000 + rand(2000));
        }
        Outcome o = exec("purchase", "purchase", {u, ph, cost, currency, k.empty() ? kNull : k});
        if (o.ok && !o.rows.empty()) {
            r_.toldPurchases.push_back(o.rows[0][0] + "," + u + "," + ph);
            if (!k.empty() && o.rows[0][1] == "false" && myPurchaseKeys_.size() < 200)
                myPurchaseKeys_.push_back({u, ph, cost, currency, k});
        }
    }

    std::string PickOne(const char *stmt)
    {
        Outcome o = exec(std::string("pick"), stmt, {});
        return o.ok && !o.rows.empty() ? o.rows[0][0] : "";
    }

    std::string NewSid() { return "PN" + hex(32); }

    void confirm()
    {
        std::string id = PickOne("pick_pending");
        if (id.empty())
            return;
        std::string sid = NewSid();
        if (chance(5) && !lastSid_.empty())
            sid = lastSid_;  // a sid already on another row: NW004
        Outcome o = exec("confirm", "confirm", {id, sid});
        if (o.ok)
            lastSid_ = sid;
    }

    void fail()
    {
        std::string id = PickOne("pick_pending");
        if (id.empty())
            return;
        exec("fail", "fail", {id, chance(50) ? "stress: provider refused" : "stress: 21422"});
    }

    void release()
    {
        Outcome p = exec("pick", "pick_active", {});
        if (!p.ok || p.rows.empty())
            return;
        std::string id = p.rows[0][0], owner = p.rows[0][1];
        bool wrong = chance(10);
        std::string u =
            wrong ? user((int) ((std::hash<std::string>()(owner) + 1 + rand(o_.users - 1)) % o_.users)) : owner;
        if (wrong && u == owner)
            wrong = false;
        Outcome o = exec(wrong ? "release_wrong_user" : "release", "release", {u, id});
        if (wrong && o.ok)
            violation("release by another user succeeded", id + " by " + u);
    }

    void mark()
    {
        std::string id = PickOne("pick_released");
        if (id.empty())
            return;
        exec("mark", "mark", {id});
    }

    // Repeat the state change that put a random row where it is: must answer replayed.
    void replay()
    {
        Outcome p = exec("pick", "pick_any", {});
        if (!p.ok || p.rows.empty())
            return;
        const auto &row = p.rows[0];
        const std::string &id = row[0], &owner = row[1], &status = row[2], &sid = row[3], &provReleased = row[4];
        Outcome o;
        std::string op;
        if (status == "active") {
            op = "replay_confirm";
            o = exec(op, "confirm", {id, sid});
        } else if (status == "failed") {
            op = "replay_fail";
            o = exec(op, "fail", {id, "stress: another reason"});
        } else if (status == "released" && provReleased == "true") {
            op = "replay_mark";
            o = exec(op, "mark", {id});
        } else if (status == "released") {
            op = "replay_release";
            o = exec(op, "release", {owner, id});
        } else {
            return;
        }
        if (o.ok && (o.rows.empty() || o.rows[0][0] != "true"))
            violation(op + " not reported as replayed", id);
    }

    void renew() { exec("renew", "renew", {std::to_string(1 + rand(20))}); }

    void due()
    {
        std::string ago = chance(30) ? "10 days" : std::to_string(1 + rand(3600)) + " seconds";
        if (chance(40))
            exec("due", "due_user", {ago, user(o_.users - 1)});  // the poor user's
        else
            exec("due", "due", {ago});
    }

    void adjust()
    {
        if (chance(40)) {  // the poor user loses everything (its renewals then go unpaid)
            exec("drain", "drain", {user(o_.users - 1)});
            return;
        }
        int cents = 1 + rand(500);
        exec("adjust", "adjust", {RandomUser(), (chance(50) ? "-" : "") + money(cents), chance(20) ? "INR" : "USD"});
    }

    void quote()
    {
        std::string id = PickOne("pick_any");
        if (!id.empty())
            exec("quote", "quote", {id});
    }

    const Options &o_;
    int index_;
    Clock::time_point deadline_;
    std::mt19937 rng_;
    PGconn *conn_ = nullptr;
    bool reportedConnect_ = false;
    long keySeq_ = 0;
    std::string lastSid_;
    std::vector<TopUp> myTold_;
    std::vector<std::vector<std::string>> myPurchaseKeys_;
    ThreadResult r_;
};

bool parse(int argc, char **argv, Options &o)
{
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--conn")
            o.conninfo = next();
        else if (a == "--threads")
            o.threads = std::stoi(next());
        else if (a == "--seconds")
            o.seconds = std::stod(next());
        else if (a == "--users")
            o.users = std::stoi(next());
        else if (a == "--phones")
            o.phones = std::stoi(next());
        else if (a == "--seed")
            o.seed = (unsigned) std::stoul(next());
        else if (a == "--out")
            o.out = next();
        else if (a == "--crash-tolerant")
            o.crashTolerant = true;
        else if (a == "--user-prefix")
            o.userPrefix = next();
        else if (a == "--phone-prefix")
            o.phonePrefix = next();
        else {
            std::cerr
                << "usage: driver --conn CONNINFO [--threads N] [--seconds S] [--users N] [--phones N] [--seed N]\n"
                   "              [--out DIR] [--crash-tolerant] [--user-prefix P] [--phone-prefix +1NNNNNN]\n";
            return false;
        }
    }
    return !o.conninfo.empty() && o.users >= 2 && o.phones >= 1 && o.phones <= 900;
}

}  // namespace

int main(int argc, char **argv)
{
    Options o;
    if (!parse(argc, argv, o))
        return 2;
    auto deadline = Clock::now() + std::chrono::milliseconds((long) (o.seconds * 1000));

    std::vector<ThreadResult> results(o.threads);
    std::vector<std::thread> threads;
    for (int i = 0; i < o.threads; ++i)
        threads.emplace_back([&, i] { results[i] = Worker(o, i, deadline).run(); });
    for (auto &t : threads)
        t.join();

    ThreadResult all;
    for (auto &r : results) {
        for (auto &[k, v] : r.outcomes)
            all.outcomes[k] += v;
        all.told.insert(all.told.end(), r.told.begin(), r.told.end());
        all.uncertain.insert(all.uncertain.end(), r.uncertain.begin(), r.uncertain.end());
        all.toldPurchases.insert(all.toldPurchases.end(), r.toldPurchases.begin(), r.toldPurchases.end());
        all.violations.insert(all.violations.end(), r.violations.begin(), r.violations.end());
        all.ops += r.ops;
    }
    std::ofstream told(o.out + "/told_topups.csv"), unc(o.out + "/uncertain_topups.csv"),
        tp(o.out + "/told_purchases.csv"), st(o.out + "/sqlstates.csv"), cv(o.out + "/client_violations.csv");
    for (auto &t : all.told)
        told << t.user << ',' << t.key << ',' << t.amount << ',' << t.currency << '\n';
    for (auto &t : all.uncertain)
        unc << t.user << ',' << t.key << '\n';
    for (auto &p : all.toldPurchases)
        tp << p << '\n';
    long ok = 0, conn = 0;
    std::map<std::string, long> byState;
    for (auto &[k, v] : all.outcomes) {
        st << k.first << ',' << k.second << ',' << v << '\n';
        if (k.second == "ok")
            ok += v;
        else if (k.second == "conn")
            conn += v;
        byState[k.second] += v;
    }
    for (auto &[c, d] : all.violations)
        cv << c << ',' << d << '\n';
    std::cout << "ops=" << all.ops << " ok=" << ok << " conn=" << conn << " client_violations=" << all.violations.size()
              << " states=";
    bool first = true;
    for (auto &[s, v] : byState) {
        if (s == "ok" || s == "conn")
            continue;
        std::cout << (first ? "" : ",") << s << ':' << v;
        first = false;
    }
    std::cout << '\n';
    for (size_t i = 0; i < all.violations.size() && i < 10; ++i)
        std::cout << "  client violation: " << all.violations[i].first << ": " << all.violations[i].second << '\n';
    return 0;
}
