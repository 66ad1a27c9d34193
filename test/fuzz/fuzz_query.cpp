// libFuzzer target: query-string parsing as the shim receives it — cpp-httplib's
// own parser (detail::parse_query_text + decode_url, the code behind
// Request::get_param_value) — followed by the checks the routes make on the
// parameters they read (limit, areaCode, contains, before, all, country).
// The same parameters also reach the real routes through fuzz_http; this target
// is the fast, focused one.
// Invariants: at most one parameter per '&'-separated piece; decoding never
// grows the text; the shim's limit check accepts exactly "1".."max" and never
// lets std::stoi throw; re-encoding a parsed parameter set and parsing it again
// gives the same set for simple (unreserved-character) values. (Noted, not a
// shim bug: 0.11.4 reads "?=2" as a parameter named "2".)
#include <map>
#include <set>
#include <string>

#include <httplib.h>

#include "fuzz_common.hpp"
#include "core/validation.hpp"

using fuzz::Fail;

namespace {

// routes.cpp LimitParam, same expression (kept in sync by hand; fuzz_http runs the real one).
bool LimitOk(const std::string &v, int max, int *out)
{
    if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 ||
        std::stoi(v) > max)
        return false;
    *out = std::stoi(v);
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string q(reinterpret_cast<const char *>(data), size);
    httplib::Params params;
    httplib::detail::parse_query_text(q, params);
    std::size_t pieces = 1;
    for (char c : q)
        pieces += c == '&';
    if (params.size() > pieces)
        Fail("more parameters than pieces", q);
    for (const auto &[k, v] : params) {
        if (k.size() + v.size() > q.size())
            Fail("decoded parameter longer than the query", q);
        (void) httplib::detail::decode_url(k, true);
    }
    const std::string dec = httplib::detail::decode_url(q, true);
    if (dec.size() > q.size())
        Fail("decode_url grew the text", q);
    (void) httplib::detail::decode_url(q, false);

    // What the routes do with them.
    for (const auto &[k, v] : params) {
        int limit = 0;
        if (LimitOk(v, 100, &limit)) {
            if (limit < 1 || limit > 100 || std::to_string(limit) != v.substr(v.find_first_not_of('0')))
                Fail("limit accepted a value outside 1..100", v);
        }
        (void) nw::IsUuid(v);
        (void) nw::IsIdempotencyKey(v);
    }

    // Round trip through httplib's encoder for unreserved values.
    httplib::Params simple;
    for (const auto &[k, v] : params) {
        const auto unreserved = [](const std::string &s) {
            for (unsigned char c : s)
                if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'))
                    return false;
            return !s.empty();
        };
        if (unreserved(k) && unreserved(v))
            simple.emplace(k, v);
    }
    // (0.11.4's parser drops repeated identical "k=v" pieces, so compare as sets.)
    httplib::Params again;
    httplib::detail::parse_query_text(httplib::detail::params_to_query_str(simple), again);
    const std::set<std::pair<std::string, std::string>> a(simple.begin(), simple.end()), b(again.begin(), again.end());
    if (a != b)
        Fail("params_to_query_str/parse_query_text round trip changed the set", q);
    return 0;
}
