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
#include <linux/stringify.h>
#include <linux/sysfs.h>
#include <xen/gntalloc.h>

unsigned int gntalloc_limit = 1024;
struct gntalloc_stats gntalloc_stats;

/*
 * Strict decimal: digits and an optional trailing newline, nothing else (no
 * sign, no NUL byte inside), 0 to UINT_MAX.  The form is checked first, so
 * anything else is -EINVAL however many digits it has; only a well-formed
 * number beyond UINT_MAX is -ERANGE.
 */
static int gntalloc_parse_uint(const char *buf, size_t len, unsigned int *val)
{
	size_t i, digits = len;

	if (digits && buf[digits - 1] == '\n')
		digits--;
	if (!digits)
		return -EINVAL;
	for (i = 0; i < digits; i++)
		if (!isdigit(buf[i]))
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

/*
 * One attribute per file of GNTALLOC_SYSFS_FILES, the UAPI's list, so the
 * names in sysfs are the names there: limit and peak have the handlers
 * above, each read-only file shows the counter of its name.
 */
struct gntalloc_file_attr {
	struct device_attribute dattr;
	atomic_long_t *counter;		/* of a read-only file */
};

static ssize_t gntalloc_counter_show(struct device *dev,
				     struct device_attribute *dattr, char *buf)
{
	struct gntalloc_file_attr *attr =
		container_of(dattr, struct gntalloc_file_attr, dattr);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(attr->counter));
}

#define GNTALLOC_FILE_RO(_name) {					\
	.dattr.attr = { .name = __stringify(_name), .mode = 0444 },	\
	.dattr.show = gntalloc_counter_show,				\
	.counter = &gntalloc_stats._name,				\
},
#define GNTALLOC_FILE_RW(_name) { .dattr = __ATTR_RW(_name) },
#define GNTALLOC_SYSFS_FILE(_name, _mode) GNTALLOC_FILE_##_mode(_name)
static struct gntalloc_file_attr gntalloc_sysfs_files[] = GNTALLOC_SYSFS_FILES;
#undef GNTALLOC_SYSFS_FILE

/* Their attributes and the NULL that ends them, by gntalloc_sysfs_init() */
static struct attribute *gntalloc_attrs[ARRAY_SIZE(gntalloc_sysfs_files) + 1];

static const struct attribute_group gntalloc_group = {
	.attrs = gntalloc_attrs,
};

/* Before the class is registered: fills in gntalloc_attrs */
void gntalloc_sysfs_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gntalloc_sysfs_files); i++)
		gntalloc_attrs[i] = &gntalloc_sysfs_files[i].dattr.attr;
}

/* The class's .dev_groups (gntalloc-main.c) */
const struct attribute_group *gntalloc_groups[] = {
	&gntalloc_group,
	NULL
};
