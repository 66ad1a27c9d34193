// Reading the end user's id from the `request.jwt.claims` setting that
// PostgREST/Supabase (or the shim) sets: {"sub": "<uuid>", ...}.
#pragma once

#include <string>
#include <string_view>

namespace nw {

// Returns the claim's `sub` as canonical lower-case uuid text, or "" when the
// claims are missing, not a JSON object, or `sub` is absent or not a uuid.
// Nothing else in the claims (a `role` of service_role, say) grants anything.
std::string ClaimedSubject(std::string_view claims_json);

}  // namespace nw
