// Prepared SPI statements (planned once per backend) and their result columns.
#pragma once

#include "pg/postgres.hpp"

namespace nw {

// A statement prepared once per backend (SPI_prepare + SPI_keepplan) on first
// use. The SQL is constant text with $n parameters; no value is ever spliced in.
struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[10];
    SPIPlanPtr plan;
};

// Executes a prepared statement; fails with an internal error unless SPI
// answers `expected` (SPI_OK_SELECT, SPI_OK_UPDATE_RETURNING, ...).
void Execute(Statement *statement, Datum *values, const char *nulls, bool read_only, long count, int expected);

// Execute, with a violation of the unique constraint or index named
// `constraint` reported as `sqlstate` and `message` instead of 23505; any
// other error, other unique violations included, is raised as it is (the
// transaction aborts either way; nothing goes on after).
void ExecuteMappingUniqueViolation(Statement *statement, Datum *values, const char *nulls, long count, int expected,
                                   const char *constraint, int sqlstate, const char *message);

// Column accessors on the first result row (SPI_tuptable).
bool ResultIsNull(int row, int column);
Datum ResultDatum(int row, int column);
char *ResultText(int row, int column);  // output function text, or nullptr for NULL

}  // namespace nw
