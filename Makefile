# number_wallet: PGXS build of the extension, plus the project's top-level targets.
#   make            build the extension and the shim (build/number-wallet-shim)
#   make install    install the extension into the server pg_config names
#   make run        install what is missing, build, start a local cluster (and the shim), serve
#   make test       the same set-up, then every test; ends with "N passed, N failed"
#                   (without make: bash scripts/run.sh, bash scripts/test.sh)
#   make bare-check the two commands in a debootstrapped Debian 12 (root; slow)
#   make stress, make fuzz, make bench   the long runs

EXTENSION   = number_wallet
# The version is the control file's default_version, named once there.
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" extension/$(EXTENSION).control)
MODULE_big  = number_wallet
PGFILEDESC  = "number_wallet - prepaid wallets and phone-number ownership"

EXT_SOURCES = $(wildcard extension/*.cpp) $(wildcard extension/pg/*.cpp) $(wildcard core/*.cpp)
OBJS        = $(EXT_SOURCES:.cpp=.o)
# The install script of the default version is built: sql/number_wallet.sql (the whole
# current schema, the file to read) copied to number_wallet--$(EXTVERSION).sql. The
# released scripts in sql/ (the 1.0 install script and every update script) are
# installed as they are, so that older versions can still be installed and updated.
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(wildcard sql/$(EXTENSION)--*.sql)

# pg_regress (PG15) reads <inputdir>/sql and <inputdir>/expected. The expected output lives in the
# top-level expected/; test/regress/expected is a symlink to it (see README "What lives where").
REGRESS_TESTS = setup wallet purchase release renewal monitoring rules security defence renewal_fairness billing_periods renewal_memory api_views rate_limit_counters import_seed metrics operator_actions
REGRESS       = $(REGRESS_TESTS)
REGRESS_OPTS  = --inputdir=test/regress --load-extension=$(EXTENSION)
ISOLATION_TESTS = $(sort $(basename $(notdir $(wildcard test/regress/specs/*.spec))))
ISOLATION       = $(ISOLATION_TESTS)
ISOLATION_OPTS  = --inputdir=test/regress --load-extension=$(EXTENSION)

PG_CONFIG  ?= pg_config
PG_CPPFLAGS = -I$(CURDIR) -I$(CURDIR)/extension
PG_CXXFLAGS = -MMD -MP -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register
SHLIB_LINK  = -lstdc++

# PGXS tests `ifdef EXTRA_CLEAN` while it is read, so it must be set before the include.
DEPFILES    = $(OBJS:.o=.d) $(OBJS:.o=.bc.d)
EXTRA_CLEAN = $(EXTENSION).control $(DEPFILES)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Debian's PGXS also builds LLVM bitcode with clang and leaves out PG_CXXFLAGS there.
# The bitcode writes its own dependency file (x.bc.d), so a header change rebuilds it too.
COMPILE.cxx.bc += $(PG_CXXFLAGS) -MF $(@:.bc=.bc.d)

# Debian's PGXS leaves `autodepend` empty, so without these a change to pg.hpp or a core/ header
# would not rebuild the objects that include it. -MMD -MP (in PG_CXXFLAGS) writes x.d beside x.o.
-include $(DEPFILES)

# Use the extension's control file from extension/ (PGXS looks in the top directory).
$(EXTENSION).control: extension/$(EXTENSION).control
	cp $< $@
all: $(EXTENSION).control

# The default version's install script (DATA_built; `make clean` removes it).
$(DATA_built): sql/$(EXTENSION).sql
	cp $< $@

# --- the shim and the C++ unit tests (CMake) -------------------------------
BUILD_DIR ?= build/cmake
.PHONY: shim run test bare-check stress fuzz bench
shim:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	env -u MAKEFLAGS -u MFLAGS cmake --build $(BUILD_DIR) -j2
ifndef NW_SKIP_SHIM
all: shim
endif

# --- the two commands of the README ----------------------------------------
# Through bash, so they work in a tree unpacked without exec bits.
run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

# The two commands on a freshly debootstrapped Debian 12 (minbase), as root and
# as a user with sudo; needs root, debootstrap and about an hour (not in `make test`).
bare-check:
	@bash test/bare_machine/check.sh

# Long runs (issue 4 and 5); short versions of stress and fuzz run in `make test`.
stress:
	@bash test/stress/run.sh

fuzz:
	@bash test/fuzz/run.sh

bench:
	@bash bench/run.sh
