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

#define pr_fmt(fmt) "xen:" KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "gntalloc-common.h"

unsigned int gntalloc_limit = 1024;
struct gntalloc_stats gntalloc_stats;

/* Decimal only, 0 to UINT_MAX: -EINVAL for anything else but -ERANGE. */
static int gntalloc_set_limit(const char *buf)
{
	unsigned int limit;
	int ret;

	ret = kstrtouint(buf, 10, &limit);
	if (ret)
		return ret;
	WRITE_ONCE(gntalloc_limit, limit);
	return 0;
}

static int gntalloc_limit_param_set(const char *val,
				    const struct kernel_param *kp)
{
	return gntalloc_set_limit(val);
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
	int ret = gntalloc_set_limit(buf);

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
	int ret;

	ret = kstrtouint(buf, 10, &val);
	if (ret)
		return ret;
	if (val)
		return -EINVAL;
	atomic_long_set(&gntalloc_stats.peak,
			atomic_long_read(&gntalloc_stats.in_use));
	return len;
}
static DEVICE_ATTR_RW(peak);

#define GNTALLOC_COUNTER_ATTR(name)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%ld\n",					\
			  atomic_long_read(&gntalloc_stats.name));	\
}									\
static DEVICE_ATTR_RO(name)

GNTALLOC_COUNTER_ATTR(in_use);
GNTALLOC_COUNTER_ATTR(pending);
GNTALLOC_COUNTER_ATTR(mapped);
GNTALLOC_COUNTER_ATTR(open_files);
GNTALLOC_COUNTER_ATTR(allocated_total);
GNTALLOC_COUNTER_ATTR(freed_total);
GNTALLOC_COUNTER_ATTR(limit_hits);
GNTALLOC_COUNTER_ATTR(alloc_failures);

static struct attribute *gntalloc_attrs[] = {
	&dev_attr_limit.attr,
	&dev_attr_in_use.attr,
	&dev_attr_pending.attr,
	&dev_attr_mapped.attr,
	&dev_attr_open_files.attr,
	&dev_attr_peak.attr,
	&dev_attr_allocated_total.attr,
	&dev_attr_freed_total.attr,
	&dev_attr_limit_hits.attr,
	&dev_attr_alloc_failures.attr,
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
