// libFuzzer target: shim/config/config.cpp ParseDotEnv (the .env file).
// Invariants: keys are non-empty, trimmed, contain no '=' or newline; values
// contain no newline; at most one pair per input line; a line "KEY=VALUE" made
// of safe characters round-trips.
#include <string>

#include "config/config.hpp"
#include "fuzz_common.hpp"

using fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string text(reinterpret_cast<const char *>(data), size);
    const auto pairs = nw::config::ParseDotEnv(text);
    std::size_t lines = 1;
    for (char c : text)
        lines += c == '\n';
    if (pairs.size() > lines)
        Fail("more pairs than lines", text);
    for (const auto &[key, value] : pairs) {
        if (key.empty())
            Fail("empty key", text);
        if (key.find_first_of("=\n") != std::string::npos)
            Fail("key contains = or a newline", text);
        if (key.front() == ' ' || key.back() == ' ' || key.front() == '\t' || key.back() == '\t')
            Fail("key not trimmed", text);
        if (value.find('\n') != std::string::npos)
            Fail("value contains a newline", text);
    }
    // Round trip of a clean line built from the input.
    std::string key, value;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '_')
            (key.size() < 16 ? key : value).push_back(static_cast<char>(c));
    }
    if (!key.empty()) {
        const auto one = nw::config::ParseDotEnv("export " + key + "=\"" + value + "\"\n# comment\n");
        if (one.size() != 1 || one[0].first != key || one[0].second != value)
            Fail("clean KEY=VALUE did not round-trip", key);
    }
    return 0;
}
