// Random identifiers: uuid v4 text (request ids, generated idempotency keys).
#pragma once

#include <string>

namespace nw {

std::string RandomUuid();

}  // namespace nw
