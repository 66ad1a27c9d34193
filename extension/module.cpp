// The number_wallet module: PG_MODULE_MAGIC and _PG_init.
#include "pg.hpp"
#include "settings.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

void _PG_init(void)
{
    nw::DefineSettings();
}
