// Prepared SPI statements (planned once per backend) and their result columns.
#include "pg/spi.hpp"

#include "pg/errors.hpp"

namespace nw {

void Execute(Statement *statement, Datum *values, const char *nulls, bool read_only, long count, int expected)
{
    if (statement->plan == nullptr) {
        // Generic plans: every statement is a keyed lookup whose best plan does
        // not depend on the values, and custom plans would re-plan each call.
        SPIPlanPtr plan =
            SPI_prepare_cursor(statement->sql, statement->nargs, statement->argtypes, CURSOR_OPT_GENERIC_PLAN);
        if (plan == nullptr)
            elog(ERROR, "could not prepare number_wallet statement: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0)
            elog(ERROR, "could not keep number_wallet statement");
        statement->plan = plan;
    }
    const int rc = SPI_execute_plan(statement->plan, values, nulls, read_only, count);
    if (rc != expected)
        elog(ERROR, "number_wallet statement returned %s, expected %s", SPI_result_code_string(rc),
             SPI_result_code_string(expected));
}

void ExecuteMappingUniqueViolation(Statement *statement, Datum *values, const char *nulls, long count, int expected,
                                   const char *constraint, int sqlstate, const char *message)
{
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        Execute(statement, values, nulls, false, count, expected);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *error = CopyErrorData();
        if (error->sqlerrcode != ERRCODE_UNIQUE_VIOLATION || error->constraint_name == nullptr ||
            strcmp(error->constraint_name, constraint) != 0)
            PG_RE_THROW();
        // Re-raised at once: no database work continues after the caught error.
        FlushErrorState();
        ereport(ERROR, (errcode(sqlstate), errmsg("%s", message)));
    }
    PG_END_TRY();
}

bool ResultIsNull(int row, int column)
{
    bool isnull = false;
    (void) SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
    return isnull;
}

Datum ResultDatum(int row, int column)
{
    bool isnull = false;
    Datum value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
    if (isnull)
        elog(ERROR, "unexpected null in column %d of a number_wallet statement", column);
    return value;
}

char *ResultText(int row, int column)
{
    return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column);
}

}  // namespace nw
