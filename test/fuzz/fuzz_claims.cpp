// libFuzzer target: core/claims.cpp ClaimedSubject, the reading of
// `request.jwt.claims` inside the extension (SECURITY DEFINER functions trust it).
// Invariant (differential): the result is "" or a canonical lower-case uuid, and
// it is exactly lower(sub) when the text is a JSON object (<= 64 KiB) whose `sub`
// is a string that is a uuid ignoring case; "" otherwise.
#include <string>

#include <nlohmann/json.hpp>

#include "core/claims.hpp"
#include "fuzz_common.hpp"
#include "core/validation.hpp"

using fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view in = fuzz::AsView(data, size);
    const std::string sub = nw::ClaimedSubject(in);
    if (!sub.empty() && !nw::IsUuid(sub))
        Fail("ClaimedSubject returned a non-canonical uuid", in);

    std::string expected;
    if (!in.empty() && in.size() <= 65536) {
        const auto j = nlohmann::json::parse(in.begin(), in.end(), nullptr, false);
        if (j.is_object()) {
            const auto it = j.find("sub");
            if (it != j.end() && it->is_string()) {
                std::string s = it->get<std::string>();
                for (char &c : s)
                    if (c >= 'A' && c <= 'Z')
                        c = static_cast<char>(c - 'A' + 'a');
                if (nw::IsUuid(s))
                    expected = s;
            }
        }
    }
    if (sub != expected)
        Fail("ClaimedSubject disagrees with the reference reading", in);
    return 0;
}
