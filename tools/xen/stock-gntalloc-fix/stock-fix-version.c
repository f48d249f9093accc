// SPDX-License-Identifier: GPL-2.0
/*
 * Not part of the fix: a label of this out-of-tree build of the stock driver.
 * The kernel's own xen-gntalloc has no module version; this build reads
 * "stock-gntalloc-fix" in /sys/module/xen_gntalloc/version.  Nothing a
 * program can observe of the driver tells the fixed one from the broken one
 * short of triggering the bug, so the selftest that triggers it runs on a
 * stock driver only when it finds this label (gntalloc_mmap_test.c).
 */
#include <linux/module.h>

MODULE_VERSION("stock-gntalloc-fix");
