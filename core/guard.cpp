// See guard.hpp.
#include "core/guard.hpp"

#include <cstring>
#include "core/cpp_only.hpp"

namespace nw {

void SetFailure(Outcome *outcome, const char *sqlstate, const char *message, const char *detail) noexcept
{
    outcome->ok = false;
    std::snprintf(outcome->sqlstate, sizeof outcome->sqlstate, "%s", sqlstate);
    std::snprintf(outcome->message, sizeof outcome->message, "%s", message);
    std::snprintf(outcome->detail, sizeof outcome->detail, "%s", detail ? detail : "");
}

}  // namespace nw
