// SPDX-License-Identifier: GPL-2.0
/*
 * The limit and the live counters, in sysfs.
 *
 * The limit is one variable with two doors: the module parameter
 * /sys/module/xen_gntalloc/parameters/limit (where Qubes OS and other users
 * of the upstream driver write it) and the device attribute
 * /sys/class/gntalloc/gntalloc/limit.  Both parse it the same strict way,
 * as do the other tunables (domain_limit, file_limit, grant_reserve,
 * quarantine_ms).  domain_limits, the per-domain overrides of domain_limit,
 * is the one file that is a table: "DOMID PAGES" lines (see its comment).
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
#include <xen/interface/xen.h>

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

/* The plain tunables: show the value, store a strict decimal */
#define GNTALLOC_TUNABLE(_name, _var, _set)				\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%u\n", READ_ONCE(_var));		\
}									\
static ssize_t _name##_store(struct device *dev,			\
			     struct device_attribute *attr,		\
			     const char *buf, size_t len)		\
{									\
	unsigned int val;						\
	int ret = gntalloc_parse_uint(buf, len, &val);			\
									\
	if (!ret)							\
		ret = _set(val);					\
	return ret ? ret : len;						\
}

static int gntalloc_set_domain_limit(unsigned int val)
{
	WRITE_ONCE(gntalloc_domain_limit, val);
	return 0;
}

static int gntalloc_set_file_limit(unsigned int val)
{
	WRITE_ONCE(gntalloc_file_limit, val);
	return 0;
}

/* A new quarantine applies to every held reference at once. */
static int gntalloc_set_quarantine_ms(unsigned int val)
{
	WRITE_ONCE(gntalloc_quarantine_ms, val);
	gntalloc_quarantine_kick();
	return 0;
}

GNTALLOC_TUNABLE(domain_limit, gntalloc_domain_limit, gntalloc_set_domain_limit)
GNTALLOC_TUNABLE(file_limit, gntalloc_file_limit, gntalloc_set_file_limit)
GNTALLOC_TUNABLE(grant_reserve, gntalloc_grant_reserve,
		 gntalloc_quota_set_grant_reserve)
GNTALLOC_TUNABLE(quarantine_ms, gntalloc_quarantine_ms,
		 gntalloc_set_quarantine_ms)

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

/*
 * domain_limits: the per-domain overrides of domain_limit, a table.
 *
 * sysfs wants one value per file; a table of overrides has no such form
 * short of a directory per domain.  The kernel's answer elsewhere is a
 * keyed file (cgroup v2's io.max: "MAJ:MIN key=value" lines, one per write;
 * a PCI driver's new_id: "VENDOR DEVICE"), and that is what this is: each
 * write is one line "DOMID PAGES" (set) or "DOMID default" (remove, so the
 * domain gets domain_limit again), both numbers strict decimals, DOMID
 * below DOMID_FIRST_RESERVED; reading gives one "DOMID PAGES" line per
 * override, by domid.  At most GNTALLOC_MAX_DOMAIN_LIMITS (gntalloc-quota.c)
 * overrides, so the table always fits in one read.
 */
static ssize_t domain_limits_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return gntalloc_quota_show_domain_limits(buf);
}

static ssize_t domain_limits_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t len)
{
	static const char keep_default[] = "default";
	const char *space = memchr(buf, ' ', len);
	size_t pages_len, domid_len;
	unsigned int domid, pages = 0;
	char domid_buf[24];
	bool set;
	int ret;

	if (!space)
		return -EINVAL;
	domid_len = space - buf;
	pages_len = len - domid_len - 1;
	/*
	 * The parser reads up to a NUL: DOMID gets a copy of its own.  All
	 * digits but too long for the copy, it is too large.
	 */
	if (!domid_len || domid_len != strspn(buf, "0123456789"))
		return -EINVAL;
	if (domid_len >= sizeof(domid_buf))
		return -ERANGE;
	memcpy(domid_buf, buf, domid_len);
	domid_buf[domid_len] = '\0';
	ret = gntalloc_parse_uint(domid_buf, domid_len, &domid);
	if (ret)
		return ret;
	if (domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (pages_len && space[pages_len] == '\n')
		pages_len--;
	set = pages_len != strlen(keep_default) ||
	      memcmp(space + 1, keep_default, pages_len);
	if (set) {
		ret = gntalloc_parse_uint(space + 1, len - domid_len - 1,
					  &pages);
		if (ret)
			return ret;
	}
	ret = gntalloc_quota_set_domain_limit(domid, set, pages);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(domain_limits);

/*
 * Their attributes, domain_limits and the NULL that ends them, by
 * gntalloc_sysfs_init()
 */
static struct attribute *gntalloc_attrs[ARRAY_SIZE(gntalloc_sysfs_files) + 2];

static const struct attribute_group gntalloc_group = {
	.attrs = gntalloc_attrs,
};

/* Before the class is registered: fills in gntalloc_attrs */
void gntalloc_sysfs_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gntalloc_sysfs_files); i++)
		gntalloc_attrs[i] = &gntalloc_sysfs_files[i].dattr.attr;
	gntalloc_attrs[i] = &dev_attr_domain_limits.attr;
}

/* The class's .dev_groups (gntalloc-main.c) */
const struct attribute_group *gntalloc_groups[] = {
	&gntalloc_group,
	NULL
};
