/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transitional: the old header, now gntalloc_lib.h (plain C) and
 * gntalloc_fixture.h (the harness and the fixtures).  SETUP_SKIP() and
 * require_device() remain here only for the files not converted yet; new
 * code returns from SETUP with SKIP(return, ...) or REQUIRE_DEVICE().
 */
#ifndef GNTALLOC_COMMON_H
#define GNTALLOC_COMMON_H

#include <setjmp.h>

#include "gntalloc_lib.h"
#include "gntalloc_fixture.h"

#define SETUP_SKIP(fmt, ...) \
	SKIP(longjmp(_metadata->env, 1), fmt, ##__VA_ARGS__)

static inline void require_device(struct __test_metadata *_metadata,
				  const char *path, const char *module)
{
	if (access(path, F_OK))
		SETUP_SKIP("%s is missing: load %s", path, module);
}

#endif /* GNTALLOC_COMMON_H */
