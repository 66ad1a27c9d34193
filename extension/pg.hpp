// The glue every SQL-callable function shares, in one include: the PostgreSQL
// headers (pg/postgres.hpp) and one header per concern, each with its source of
// the same name under pg/.
//
// Files that include this header are the "C side" of the boundary described
// in core/guard.hpp: their functions may ereport(ERROR), so they keep only
// plain-old-data on the stack (no std::string, no RAII objects) and call into
// throwing C++ only through nw::RunGuarded.
#pragma once

#include "pg/postgres.hpp"

#include "core/guard.hpp"
#include "pg/arguments.hpp"
#include "pg/errors.hpp"
#include "pg/json_result.hpp"
#include "pg/spi.hpp"
#include "pg/times.hpp"
