// Included last by every core/*.cpp: core/ is pure C++ shared with the shim and
// the unit tests, so neither it nor any header it pulls in may see postgres.h
// (whose macros and longjmp-based errors do not belong on this side of the guard).
#pragma once

#ifdef POSTGRES_H
static_assert(false, "core/ is pure C++: a core/ header or source included postgres.h");
#endif
