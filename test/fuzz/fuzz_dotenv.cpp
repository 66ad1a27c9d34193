// libFuzzer target: shim/config ParseDotEnv.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    const auto pairs = nw::config::ParseDotEnv(text);
    for (const auto &kv : pairs) {
        if (kv.first.empty()) {
            std::fprintf(stderr, "ParseDotEnv returned an empty key\n");
            std::abort();
        }
        if (kv.first.find_first_of("=\n") != std::string::npos) {
            std::fprintf(stderr, "ParseDotEnv returned a key containing = or a newline\n");
            std::abort();
        }
    }
    return 0;
}
