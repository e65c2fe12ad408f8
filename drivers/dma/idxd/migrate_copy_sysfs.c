// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/mm/migrate_copy/dsa/: the knobs and counters of the DSA copy
 * engine for page migration.
 *
 *   enabled             take channels and register the engine (bool)
 *   any_provider        take any DMA_MEMCPY channel, not only idxd's (bool)
 *   max_channels        most channels to hold, 1..64
 *   timeout_ms          longest wait for a batch, 1..60000
 *   max_transfer_bytes  largest transfer per copy, 4096..1073741824
 *   max_batch_copies    most copies per descriptor (one DSA batch), 1..512
 *   dst_hint            where the device writes: auto, memory or cache
 *   nr_channels         read only: channels held (listed in debugfs,
 *                       migrate_copy_dsa/channels)
 *   quarantined_pages   read only: destination pages held after timeouts
 *   batches offloaded failed timed_out quarantined released descriptors
 *   copies room_waits
 *                       read only: counters since load
 *
 * any_provider, max_channels, max_transfer_bytes and max_batch_copies apply
 * when the engine is enabled: changing them while it is returns -EBUSY. Bad
 * input returns -EINVAL and changes nothing; a bool is one whole kstrtobool
 * word.
 */

#define pr_fmt(fmt) "idxd_migrate_copy: " fmt

#include <linux/kobject.h>
#include <linux/migrate_copy.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "migrate_copy.h"

#define DSA_COPY_MAX_CHANNELS_LIMIT	64
#define DSA_COPY_MAX_TIMEOUT_MS		60000
#define DSA_COPY_MIN_TRANSFER		4096
#define DSA_COPY_MAX_TRANSFER		(1U << 30)
#define DSA_COPY_MAX_BATCH_COPIES	512

static struct kobject *dsa_copy_kobj;

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(dsa_copy_config.enabled));
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	bool enabled;
	int ret = 0;

	if (migrate_copy_parse_bool(buf, count, &enabled))
		return -EINVAL;
	mutex_lock(&dsa_copy_lock);
	if (enabled)
		ret = dsa_copy_enable();
	else
		dsa_copy_disable();
	mutex_unlock(&dsa_copy_lock);
	if (ret == -ENODEV)
		pr_info("no %sDMA_MEMCPY channel available\n",
			dsa_copy_config.any_provider ? "" : "idxd ");
	return ret ?: count;
}

/* Store an unsigned knob that only changes while the engine is disabled. */
static ssize_t dsa_copy_store_uint(const char *buf, size_t count, unsigned int *knob,
				   unsigned int min, unsigned int max, bool only_disabled)
{
	unsigned int value;
	ssize_t ret = count;

	if (!migrate_copy_input_ok(buf, count) || kstrtouint(buf, 10, &value) ||
	    value < min || value > max)
		return -EINVAL;
	mutex_lock(&dsa_copy_lock);
	if (only_disabled && dsa_copy_config.enabled)
		ret = -EBUSY;
	else
		WRITE_ONCE(*knob, value);
	mutex_unlock(&dsa_copy_lock);
	return ret;
}

static ssize_t any_provider_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(dsa_copy_config.any_provider));
}

static ssize_t any_provider_store(struct kobject *kobj, struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	ssize_t ret = count;
	bool value;

	if (migrate_copy_parse_bool(buf, count, &value))
		return -EINVAL;
	mutex_lock(&dsa_copy_lock);
	if (dsa_copy_config.enabled)
		ret = -EBUSY;
	else
		dsa_copy_config.any_provider = value;
	mutex_unlock(&dsa_copy_lock);
	return ret;
}

static ssize_t max_channels_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dsa_copy_config.max_channels));
}

static ssize_t max_channels_store(struct kobject *kobj, struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	return dsa_copy_store_uint(buf, count, &dsa_copy_config.max_channels, 1,
				   DSA_COPY_MAX_CHANNELS_LIMIT, true);
}

static ssize_t timeout_ms_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dsa_copy_config.timeout_ms));
}

static ssize_t timeout_ms_store(struct kobject *kobj, struct kobj_attribute *attr,
				const char *buf, size_t count)
{
	return dsa_copy_store_uint(buf, count, &dsa_copy_config.timeout_ms, 1,
				   DSA_COPY_MAX_TIMEOUT_MS, false);
}

static ssize_t max_transfer_bytes_show(struct kobject *kobj, struct kobj_attribute *attr,
				       char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dsa_copy_config.max_transfer_bytes));
}

static ssize_t max_transfer_bytes_store(struct kobject *kobj, struct kobj_attribute *attr,
					const char *buf, size_t count)
{
	return dsa_copy_store_uint(buf, count, &dsa_copy_config.max_transfer_bytes,
				   DSA_COPY_MIN_TRANSFER, DSA_COPY_MAX_TRANSFER, true);
}

static ssize_t max_batch_copies_show(struct kobject *kobj, struct kobj_attribute *attr,
				     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dsa_copy_config.max_batch_copies));
}

static ssize_t max_batch_copies_store(struct kobject *kobj, struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	return dsa_copy_store_uint(buf, count, &dsa_copy_config.max_batch_copies, 1,
				   DSA_COPY_MAX_BATCH_COPIES, true);
}

static const char * const dsa_copy_dst_hints[DSA_COPY_NR_DST_HINTS] = {
	[DSA_COPY_DST_AUTO] = "auto",
	[DSA_COPY_DST_MEMORY] = "memory",
	[DSA_COPY_DST_CACHE] = "cache",
};

static ssize_t dst_hint_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int hint = READ_ONCE(dsa_copy_config.dst_hint), i;
	int len = 0;

	for (i = 0; i < DSA_COPY_NR_DST_HINTS; i++)
		len += sysfs_emit_at(buf, len, i == hint ? "%s[%s]" : "%s%s", i ? " " : "",
				     dsa_copy_dst_hints[i]);
	return len + sysfs_emit_at(buf, len, "\n");
}

/* One of the names, with at most a trailing newline. */
static ssize_t dst_hint_store(struct kobject *kobj, struct kobj_attribute *attr,
			      const char *buf, size_t count)
{
	int hint;

	if (strnlen(buf, count) != count)
		return -EINVAL;
	hint = sysfs_match_string(dsa_copy_dst_hints, buf);
	if (hint < 0)
		return -EINVAL;
	WRITE_ONCE(dsa_copy_config.dst_hint, hint);
	return count;
}

static ssize_t nr_channels_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int count;

	mutex_lock(&dsa_copy_lock);
	count = dsa_copy_channel_count();
	mutex_unlock(&dsa_copy_lock);
	return sysfs_emit(buf, "%u\n", count);
}

static ssize_t quarantined_pages_show(struct kobject *kobj, struct kobj_attribute *attr,
				      char *buf)
{
	unsigned long pages;

	mutex_lock(&dsa_copy_lock);
	pages = dsa_copy_quarantined_pages();
	mutex_unlock(&dsa_copy_lock);
	return sysfs_emit(buf, "%lu\n", pages);
}

#define DSA_COPY_COUNTER(name)							\
static ssize_t name##_show(struct kobject *kobj, struct kobj_attribute *attr,	\
			   char *buf)						\
{										\
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&dsa_copy_stats.name));	\
}										\
static struct kobj_attribute name##_attr = __ATTR_RO(name)

DSA_COPY_COUNTER(batches);
DSA_COPY_COUNTER(offloaded);
DSA_COPY_COUNTER(failed);
DSA_COPY_COUNTER(timed_out);
DSA_COPY_COUNTER(quarantined);
DSA_COPY_COUNTER(released);
DSA_COPY_COUNTER(descriptors);
DSA_COPY_COUNTER(copies);
DSA_COPY_COUNTER(room_waits);

static struct kobj_attribute enabled_attr = __ATTR_RW(enabled);
static struct kobj_attribute any_provider_attr = __ATTR_RW(any_provider);
static struct kobj_attribute max_channels_attr = __ATTR_RW(max_channels);
static struct kobj_attribute timeout_ms_attr = __ATTR_RW(timeout_ms);
static struct kobj_attribute max_transfer_bytes_attr = __ATTR_RW(max_transfer_bytes);
static struct kobj_attribute max_batch_copies_attr = __ATTR_RW(max_batch_copies);
static struct kobj_attribute dst_hint_attr = __ATTR_RW(dst_hint);
static struct kobj_attribute nr_channels_attr = __ATTR_RO(nr_channels);
static struct kobj_attribute quarantined_pages_attr = __ATTR_RO(quarantined_pages);

static struct attribute *dsa_copy_attrs[] = {
	&enabled_attr.attr,
	&any_provider_attr.attr,
	&max_channels_attr.attr,
	&timeout_ms_attr.attr,
	&max_transfer_bytes_attr.attr,
	&max_batch_copies_attr.attr,
	&dst_hint_attr.attr,
	&nr_channels_attr.attr,
	&quarantined_pages_attr.attr,
	&batches_attr.attr,
	&offloaded_attr.attr,
	&failed_attr.attr,
	&timed_out_attr.attr,
	&quarantined_attr.attr,
	&released_attr.attr,
	&descriptors_attr.attr,
	&copies_attr.attr,
	&room_waits_attr.attr,
	NULL,
};

static const struct attribute_group dsa_copy_attr_group = {
	.attrs = dsa_copy_attrs,
};

/**
 * dsa_copy_sysfs_init() - Create /sys/kernel/mm/migrate_copy/dsa/.
 *
 * Return: 0 or a negative errno.
 */
int dsa_copy_sysfs_init(void)
{
	int ret;

	if (!migrate_copy_kobj)
		return -ENODEV;
	dsa_copy_kobj = kobject_create_and_add("dsa", migrate_copy_kobj);
	if (!dsa_copy_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(dsa_copy_kobj, &dsa_copy_attr_group);
	if (ret)
		goto put_kobject;
	return 0;

put_kobject:
	kobject_put(dsa_copy_kobj);
	return ret;
}

/**
 * dsa_copy_sysfs_exit() - Remove /sys/kernel/mm/migrate_copy/dsa/.
 */
void dsa_copy_sysfs_exit(void)
{
	kobject_put(dsa_copy_kobj);
}
