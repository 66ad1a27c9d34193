// libFuzzer target: the auth module's lexical layer (shim/auth/base64url.cpp,
// token.cpp, verifier.cpp's parse_bearer, claims.cpp's canonical_uuid).
// Invariants:
//  * base64url_decode is strict: whatever it accepts re-encodes to the same text,
//    and encode(x) always decodes back to x;
//  * parse_json_object returns only objects, refuses duplicate member names,
//    and what it returns survives dump/parse unchanged;
//  * split_token succeeds only for exactly three non-empty segments, and its
//    parts agree with decoding each segment separately;
//  * parse_bearer's credential is a visible-ASCII substring of at most 8192 bytes;
//  * canonical_uuid returns 36 lower-case characters equal to the input ignoring case.
#include <string>

#include "auth/internal.hpp"
#include "fuzz_common.hpp"

using namespace nw::auth::detail;
using fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view in = fuzz::AsView(data, size);

    // base64url.
    if (const auto dec = base64url_decode(in)) {
        if (base64url_encode(*dec) != in)
            Fail("base64url_decode accepted a non-canonical encoding", in);
        std::string loose;
        if (!fuzz::LooseB64UrlDecode(in, &loose) || loose != *dec)
            Fail("base64url_decode disagrees with the oracle", in);
    }
    const std::string enc = base64url_encode(in);
    if (enc.find_first_of("+/=") != std::string::npos)
        Fail("base64url_encode used a non-url-safe character", in);
    const auto back = base64url_decode(enc);
    if (!back || *back != in)
        Fail("base64url round trip failed", in);

    // JSON objects.
    if (const auto obj = parse_json_object(in)) {
        if (!obj->is_object())
            Fail("parse_json_object returned a non-object", in);
        const auto again = parse_json_object(obj->dump());
        if (!again || *again != *obj)
            Fail("parse_json_object result does not survive dump/parse", in);
        std::size_t members = 0;
        bool dup = false;
        (void) nlohmann::json::parse(
            in.begin(), in.end(),
            [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json &) {
                if (depth == 1 && ev == nlohmann::json::parse_event_t::key)
                    ++members;
                return true;
            },
            false);
        if (members != obj->size())
            dup = true;
        if (dup)
            Fail("parse_json_object accepted a duplicate top-level member", in);
    }

    // Compact JWS splitting.
    if (const auto parts = split_token(in)) {
        const std::size_t d1 = in.find('.'), d2 = in.find('.', d1 + 1);
        if (d1 == 0 || d2 == std::string_view::npos || d2 == d1 + 1 || d2 + 1 >= in.size() ||
            in.find('.', d2 + 1) != std::string_view::npos)
            Fail("split_token accepted a token that is not three non-empty segments", in);
        const auto h = base64url_decode(in.substr(0, d1));
        const auto p = base64url_decode(in.substr(d1 + 1, d2 - d1 - 1));
        const auto s = base64url_decode(in.substr(d2 + 1));
        if (!h || !p || !s || *s != parts->signature)
            Fail("split_token parts disagree with the segments", in);
        const auto hj = parse_json_object(*h), pj = parse_json_object(*p);
        if (!hj || !pj || *hj != parts->header || *pj != parts->payload)
            Fail("split_token JSON disagrees", in);
    }

    // Authorization header.
    std::string_view cred;
    const nw::auth::Failure f = parse_bearer(in, cred);
    if (f == nw::auth::Failure::None) {
        if (cred.empty() || cred.size() > nw::auth::kMaxTokenBytes)
            Fail("parse_bearer credential size", in);
        for (unsigned char c : cred)
            if (c < 0x21 || c > 0x7e)
                Fail("parse_bearer credential not visible ASCII", in);
        if (cred.data() < in.data() || cred.data() + cred.size() > in.data() + in.size())
            Fail("parse_bearer credential outside the header", in);
    }

    // UUIDs.
    if (const auto id = canonical_uuid(in)) {
        if (id->size() != 36 || in.size() != 36)
            Fail("canonical_uuid length", in);
        for (std::size_t i = 0; i < 36; ++i) {
            const char a = (*id)[i], b = in[i];
            if (a >= 'A' && a <= 'Z')
                Fail("canonical_uuid is not lower-case", in);
            if (a != b && !(b >= 'A' && b <= 'F' && a == b - 'A' + 'a'))
                Fail("canonical_uuid changed a character", in);
        }
    }
    (void) alg_from_name(in);
    (void) constant_time_equal(in, "fuzz");
    return 0;
}
