// The one boundary between C++ and PostgreSQL (docs/architecture.md, "The C++/PostgreSQL boundary").
//
// Rule: code that can throw runs only inside RunGuarded(); code that can
// ereport(ERROR) (palloc, SPI, syscache, ...) runs only in the C-style glue,
// where the stack holds no C++ object with a destructor. RunGuarded turns every
// C++ exception into a plain Outcome; the glue then raises it as an ERROR once
// all C++ frames are gone, so a longjmp never unwinds C++ and no exception ever
// reaches PostgreSQL.
#pragma once

#include <cstdio>
#include <exception>
#include <new>
#include <type_traits>

namespace nw {

// SQLSTATE as five characters (PostgreSQL's MAKE_SQLSTATE is applied by the glue).
struct Outcome {
    bool ok = true;
    char sqlstate[6] = "00000";
    char message[256] = "";
    char detail[256] = "";
};

// Fills an Outcome with a refusal; never throws, never allocates.
void SetFailure(Outcome *outcome, const char *sqlstate, const char *message, const char *detail = "") noexcept;

// Runs fn() and converts any exception into an Outcome: std::bad_alloc becomes
// 53200 (out of memory), other std::exception and unknown throws become XX000
// (internal error) with a generic message. fn must not call PostgreSQL.
template <typename Fn>
Outcome RunGuarded(const char *what, Fn &&fn) noexcept
{
    Outcome outcome;
    try {
        fn(&outcome);
    } catch (const std::bad_alloc &) {
        SetFailure(&outcome, "53200", "out of memory");
    } catch (const std::exception &e) {
        char message[sizeof outcome.message];
        std::snprintf(message, sizeof message, "internal error in %s: %s", what, e.what());
        SetFailure(&outcome, "XX000", message);
    } catch (...) {
        char message[sizeof outcome.message];
        std::snprintf(message, sizeof message, "internal error in %s: unknown exception", what);
        SetFailure(&outcome, "XX000", message);
    }
    return outcome;
}

// Calls C++ from glue without RunGuarded, for what provably cannot throw: the
// call compiles only when it is noexcept, so each bare call site states and
// checks the boundary rule (a throwing call must go through RunGuarded).
#define NW_NOTHROW(call)                                                                                               \
    ([&]() noexcept -> decltype(call) {                                                                                \
        static_assert(noexcept(call), #call " may throw: call it inside nw::RunGuarded instead");                      \
        return call;                                                                                                   \
    }())

static_assert(std::is_trivially_destructible<Outcome>::value,
              "Outcome crosses the longjmp boundary and must be trivially destructible");

}  // namespace nw
