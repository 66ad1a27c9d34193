// libFuzzer target: extension/core/claims.cpp (request.jwt.claims -> sub).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "claims.hpp"
#include "validation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view in(reinterpret_cast<const char *>(data), size);
    const std::string sub = nw::ClaimedSubject(in);
    if (!sub.empty() && !nw::IsUuid(sub)) {
        std::fprintf(stderr, "ClaimedSubject returned a non-canonical uuid: '%s'\n", sub.c_str());
        std::abort();
    }
    return 0;
}
