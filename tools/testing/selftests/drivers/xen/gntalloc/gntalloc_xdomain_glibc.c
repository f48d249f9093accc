// SPDX-License-Identifier: GPL-2.0
/*
 * Debian 13's static libxenstore.a (Xen 4.20) is built against glibc 2.41,
 * whose <stdlib.h> turns strtol() and strtoul() into their C23 versions,
 * __isoc23_strtol() and __isoc23_strtoul(), which Debian 12's glibc (2.36,
 * the one that links the selftests) lacks.  They differ from the C99 ones
 * only in accepting a "0b" prefix for base 0 or 2, which xenstore's numbers
 * never have.  Weak: a glibc that has them keeps its own.
 */

#include <stdlib.h>

#pragma weak __isoc23_strtol
#pragma weak __isoc23_strtoul

long __isoc23_strtol(const char *s, char **end, int base)
{
	return strtol(s, end, base);
}

unsigned long __isoc23_strtoul(const char *s, char **end, int base)
{
	return strtoul(s, end, base);
}
