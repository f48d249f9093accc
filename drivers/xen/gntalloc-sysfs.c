// SPDX-License-Identifier: GPL-2.0
/*
 * The limit and the live counters, in sysfs.
 *
 * The limit is one variable with two doors: the module parameter
 * /sys/module/xen_gntalloc/parameters/limit (where Qubes OS and other users
 * of the upstream driver write it) and the device attribute
 * /sys/class/gntalloc/gntalloc/limit.  Both parse it the same strict way.
 * Every attribute is documented in Documentation/ABI/testing/.
 */

#include "gntalloc-common.h"

#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/sysfs.h>

unsigned int gntalloc_limit = 1024;
struct gntalloc_stats gntalloc_stats;

/*
 * Strict decimal: digits and an optional trailing newline, nothing else (no
 * sign, no NUL byte inside), 0 to UINT_MAX.  -ERANGE beyond, else -EINVAL.
 */
static int gntalloc_parse_uint(const char *buf, size_t len, unsigned int *val)
{
	if (!isdigit(buf[0]) || memchr(buf, '\0', len))
		return -EINVAL;
	return kstrtouint(buf, 10, val);
}

static int gntalloc_set_limit(const char *buf, size_t len)
{
	unsigned int limit;
	int ret;

	ret = gntalloc_parse_uint(buf, len, &limit);
	if (ret)
		return ret;
	WRITE_ONCE(gntalloc_limit, limit);
	return 0;
}

/* The module parameter layer passes no length: a value ends at a NUL */
static int gntalloc_limit_param_set(const char *val,
				    const struct kernel_param *kp)
{
	return gntalloc_set_limit(val, strlen(val));
}

static const struct kernel_param_ops gntalloc_limit_param_ops = {
	.set = gntalloc_limit_param_set,
	.get = param_get_uint,
};

module_param_cb(limit, &gntalloc_limit_param_ops, &gntalloc_limit, 0644);
MODULE_PARM_DESC(limit,
		 "Maximum number of grant pages in use system-wide (default 1024)");

static ssize_t limit_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(gntalloc_limit));
}

static ssize_t limit_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t len)
{
	int ret = gntalloc_set_limit(buf, len);

	return ret ? ret : len;
}
static DEVICE_ATTR_RW(limit);

static ssize_t peak_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&gntalloc_stats.peak));
}

/* Writing 0 starts a new high-water mark from the current use. */
static ssize_t peak_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t len)
{
	unsigned int val;

	if (gntalloc_parse_uint(buf, len, &val) || val)
		return -EINVAL;
	atomic_long_set(&gntalloc_stats.peak,
			atomic_long_read(&gntalloc_stats.in_use));
	return len;
}
static DEVICE_ATTR_RW(peak);

/* A read-only attribute showing one of the counters */
struct gntalloc_counter_attr {
	struct device_attribute dattr;
	atomic_long_t *counter;
};

static ssize_t gntalloc_counter_show(struct device *dev,
				     struct device_attribute *dattr, char *buf)
{
	struct gntalloc_counter_attr *attr =
		container_of(dattr, struct gntalloc_counter_attr, dattr);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(attr->counter));
}

#define GNTALLOC_COUNTER(_name, _counter) {				\
	.dattr = __ATTR(_name, 0444, gntalloc_counter_show, NULL),	\
	.counter = (_counter),						\
}

static struct gntalloc_counter_attr gntalloc_counter_in_use =
	GNTALLOC_COUNTER(in_use, &gntalloc_stats.in_use);
static struct gntalloc_counter_attr gntalloc_counter_pending =
	GNTALLOC_COUNTER(pending, &gntalloc_stats.pending);
static struct gntalloc_counter_attr gntalloc_counter_mapped =
	GNTALLOC_COUNTER(mapped, &gntalloc_stats.mapped);
static struct gntalloc_counter_attr gntalloc_counter_open_files =
	GNTALLOC_COUNTER(open_files, &gntalloc_stats.open_files);
static struct gntalloc_counter_attr gntalloc_counter_allocated_total =
	GNTALLOC_COUNTER(allocated_total, &gntalloc_stats.allocated_total);
static struct gntalloc_counter_attr gntalloc_counter_freed_total =
	GNTALLOC_COUNTER(freed_total, &gntalloc_stats.freed_total);
static struct gntalloc_counter_attr gntalloc_counter_limit_hits =
	GNTALLOC_COUNTER(limit_hits, &gntalloc_stats.limit_hits);
static struct gntalloc_counter_attr gntalloc_counter_alloc_failures =
	GNTALLOC_COUNTER(alloc_failures, &gntalloc_stats.alloc_failures);

static struct attribute *gntalloc_attrs[] = {
	&dev_attr_limit.attr,
	&gntalloc_counter_in_use.dattr.attr,
	&gntalloc_counter_pending.dattr.attr,
	&gntalloc_counter_mapped.dattr.attr,
	&gntalloc_counter_open_files.dattr.attr,
	&dev_attr_peak.attr,
	&gntalloc_counter_allocated_total.dattr.attr,
	&gntalloc_counter_freed_total.dattr.attr,
	&gntalloc_counter_limit_hits.dattr.attr,
	&gntalloc_counter_alloc_failures.dattr.attr,
	NULL
};

static const struct attribute_group gntalloc_group = {
	.attrs = gntalloc_attrs,
};

/* The class's .dev_groups (gntalloc-main.c) */
const struct attribute_group *gntalloc_groups[] = {
	&gntalloc_group,
	NULL
};
