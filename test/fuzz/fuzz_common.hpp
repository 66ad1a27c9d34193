// Helpers shared by the libFuzzer targets in test/fuzz/ (header-only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz {

// An invariant does not hold: say which, then abort() so libFuzzer saves the input.
[[noreturn]] inline void Fail(const char *what, std::string_view detail = {})
{
    std::fprintf(stderr, "\n==FUZZ INVARIANT VIOLATED== %s", what);
    if (!detail.empty()) {
        std::fprintf(stderr, " [");
        for (unsigned char c : detail.substr(0, 300)) {
            if (c >= 0x20 && c < 0x7f)
                std::fputc(c, stderr);
            else
                std::fprintf(stderr, "\\x%02x", c);
        }
        std::fprintf(stderr, "]");
    }
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
    std::abort();
}

inline std::string_view AsView(const uint8_t *data, size_t size)
{
    return {reinterpret_cast<const char *>(data), size};
}

inline bool PrintableAscii(std::string_view s)
{
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e)
            return false;
    return true;
}

// Independent (deliberately simple) base64url decoder for oracles: url-safe
// alphabet, no padding; returns false on any other character or a dangling
// single character. Not strict about the unused low bits.
inline bool LooseB64UrlDecode(std::string_view in, std::string *out)
{
    out->clear();
    unsigned int acc = 0;
    int bits = 0;
    for (char c : in) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        else
            return false;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return in.size() % 4 != 1;
}

}  // namespace fuzz
