// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/mm/migrate_copy/: the knobs of the batched migration copy.
 *
 *   enabled          true or false (a whole kstrtobool word: 1/0, y/n, yes/no,
 *                    t/f, true/false, on/off)
 *   engine           "[auto] cpu dma": write auto or an engine's name
 *   reasons          the migration reasons that use the batch copy, enabled
 *                    ones in brackets; write names, "all" or "none"
 *   min_batch_bytes  smaller batches are copied by the move phase
 *
 * Bad input returns -EINVAL and changes nothing.
 *
 * /sys/kernel/debug/migrate_copy/estimates, read only: per engine, its node,
 * minimum batch size and throughput estimates (a debugging aid).
 */

#define pr_fmt(fmt) "migrate_copy: " fmt

#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/migrate.h>
#include <linux/migrate_mode.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/string_choices.h>
#include <linux/sysfs.h>

#include "migrate_copy.h"

struct kobject *migrate_copy_kobj;
EXPORT_SYMBOL_GPL(migrate_copy_kobj);

/* Largest min_batch_bytes accepted: a batch never exceeds this. */
#define MIGRATE_COPY_MAX_MIN_BYTES	(1UL << 30)

static int migrate_copy_reason_index(const char *name)
{
	int reason;

	for (reason = 0; reason < MR_TYPES; reason++)
		if (migrate_reason_names[reason] &&
		    !strcmp(name, migrate_reason_names[reason]))
			return reason;
	return -EINVAL;
}

/**
 * migrate_copy_parse_reasons() - Parse a list of migration reason names.
 * @buf: Names separated by blanks or commas, or "all", or "none".
 * @reasons: Set to the parsed mask, only on success.
 *
 * Return: 0, or -EINVAL on an unknown name, an empty list, or "all" or
 * "none" mixed with names.
 */
int migrate_copy_parse_reasons(const char *buf, unsigned long *reasons)
{
	char *copy, *cursor, *word;
	unsigned long mask = 0;
	int words = 0, ret = 0;
	bool special = false;

	copy = kstrdup(buf, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	cursor = strim(copy);
	while ((word = strsep(&cursor, " ,\t\n")) != NULL) {
		int reason;

		if (!*word)
			continue;
		words++;
		if (!strcmp(word, "all")) {
			mask = BIT(MR_TYPES) - 1;
			special = true;
		} else if (!strcmp(word, "none")) {
			mask = 0;
			special = true;
		} else {
			reason = migrate_copy_reason_index(word);
			if (reason < 0) {
				ret = -EINVAL;
				break;
			}
			mask |= BIT(reason);
		}
	}
	kfree(copy);
	if (!ret && (!words || (special && words > 1)))
		ret = -EINVAL;
	if (!ret)
		*reasons = mask;
	return ret;
}

/**
 * migrate_copy_parse_min_bytes() - Parse min_batch_bytes.
 * @buf: A decimal number of bytes, at most 1 GiB.
 * @bytes: Set to the value, only on success.
 *
 * Return: 0, or -EINVAL.
 */
int migrate_copy_parse_min_bytes(const char *buf, size_t *bytes)
{
	unsigned long value;

	if (kstrtoul(buf, 10, &value) || value > MIGRATE_COPY_MAX_MIN_BYTES)
		return -EINVAL;
	*bytes = value;
	return 0;
}

/**
 * migrate_copy_input_ok() - Whether a sysfs store can parse its input whole.
 * @buf: The bytes written.
 * @count: Their number.
 *
 * A store sees at most PAGE_SIZE bytes of a write (sysfs cuts a longer one
 * short) and parses them as a C string: refuse a write that filled the page,
 * whose end is unknown, and one with a NUL before its end, whose rest would
 * be ignored.
 *
 * Return: true if @buf can be parsed as a whole.
 */
bool migrate_copy_input_ok(const char *buf, size_t count)
{
	return count < PAGE_SIZE && strnlen(buf, count) == count;
}
EXPORT_SYMBOL_GPL(migrate_copy_input_ok);

/**
 * migrate_copy_parse_bool() - Parse a boolean knob strictly.
 * @buf: The bytes written, or a boot parameter's value.
 * @count: Their number.
 * @value: Set to the value, only on success.
 *
 * kstrtobool() decides on the first one or two characters, so it takes
 * "10", "1garbage" or "offline": accept only its whole words, in any case,
 * with one trailing newline.
 *
 * Return: 0, or -EINVAL.
 */
int migrate_copy_parse_bool(const char *buf, size_t count, bool *value)
{
	static const char *const words[] = {
		"0", "1", "n", "y", "no", "yes", "f", "t", "false", "true", "off", "on",
	};
	unsigned int i;

	if (!migrate_copy_input_ok(buf, count))
		return -EINVAL;
	if (count && buf[count - 1] == '\n')
		count--;
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i]) == count && !strncasecmp(buf, words[i], count))
			return kstrtobool(words[i], value);
	return -EINVAL;
}
EXPORT_SYMBOL_GPL(migrate_copy_parse_bool);

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", str_true_false(migrate_copy_enabled()));
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	bool enabled;

	if (migrate_copy_parse_bool(buf, count, &enabled))
		return -EINVAL;
	mutex_lock(&migrate_copy_lock);
	migrate_copy_set_enabled(enabled);
	mutex_unlock(&migrate_copy_lock);
	return count;
}

static ssize_t engine_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	int len;

	mutex_lock(&migrate_copy_lock);
	len = migrate_copy_show_engines(buf);
	mutex_unlock(&migrate_copy_lock);
	return len;
}

static ssize_t engine_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct migrate_copy_engine *engine = NULL;
	char name[32];
	ssize_t ret = count;

	if (!migrate_copy_input_ok(buf, count) || strscpy(name, buf, sizeof(name)) < 0)
		return -EINVAL;
	strim(name);
	mutex_lock(&migrate_copy_lock);
	if (strcmp(name, "auto")) {
		engine = migrate_copy_engine_find(name);
		if (!engine)
			ret = -EINVAL;
	}
	if (ret > 0)
		migrate_copy_select_engine(engine);
	mutex_unlock(&migrate_copy_lock);
	return ret;
}

static ssize_t reasons_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned long reasons = READ_ONCE(migrate_copy_policy.reasons);
	int reason, len = 0;

	for (reason = 0; reason < MR_TYPES; reason++)
		len += sysfs_emit_at(buf, len, reasons & BIT(reason) ? "%s[%s]" : "%s%s",
				     len ? " " : "", migrate_reason_names[reason]);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static ssize_t reasons_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	unsigned long reasons;
	int ret;

	if (!migrate_copy_input_ok(buf, count))
		return -EINVAL;
	ret = migrate_copy_parse_reasons(buf, &reasons);
	if (ret)
		return ret;
	WRITE_ONCE(migrate_copy_policy.reasons, reasons);
	return count;
}

static ssize_t min_batch_bytes_show(struct kobject *kobj, struct kobj_attribute *attr,
				    char *buf)
{
	return sysfs_emit(buf, "%zu\n", READ_ONCE(migrate_copy_policy.min_batch_bytes));
}

static ssize_t min_batch_bytes_store(struct kobject *kobj, struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	size_t bytes;

	if (!migrate_copy_input_ok(buf, count) || migrate_copy_parse_min_bytes(buf, &bytes))
		return -EINVAL;
	WRITE_ONCE(migrate_copy_policy.min_batch_bytes, bytes);
	return count;
}

static int estimates_show(struct seq_file *m, void *unused)
{
	mutex_lock(&migrate_copy_lock);
	migrate_copy_show_estimates(m);
	mutex_unlock(&migrate_copy_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(estimates);

static struct kobj_attribute enabled_attr = __ATTR_RW(enabled);
static struct kobj_attribute engine_attr = __ATTR_RW(engine);
static struct kobj_attribute reasons_attr = __ATTR_RW(reasons);
static struct kobj_attribute min_batch_bytes_attr = __ATTR_RW(min_batch_bytes);

static struct attribute *migrate_copy_attrs[] = {
	&enabled_attr.attr,
	&engine_attr.attr,
	&reasons_attr.attr,
	&min_batch_bytes_attr.attr,
	NULL,
};

static const struct attribute_group migrate_copy_attr_group = {
	.attrs = migrate_copy_attrs,
};

/**
 * migrate_copy_sysfs_init() - Create /sys/kernel/mm/migrate_copy/, and
 * estimates in /sys/kernel/debug/migrate_copy/.
 *
 * Return: 0 or a negative errno.
 */
int __init migrate_copy_sysfs_init(void)
{
	struct kobject *kobj;
	int ret;

	kobj = kobject_create_and_add("migrate_copy", mm_kobj);
	if (!kobj)
		return -ENOMEM;
	ret = sysfs_create_group(kobj, &migrate_copy_attr_group);
	if (ret)
		goto put_kobject;
	migrate_copy_kobj = kobj;
	debugfs_create_file("estimates", 0400,
			    debugfs_create_dir("migrate_copy", NULL), NULL,
			    &estimates_fops);
	return 0;

put_kobject:
	kobject_put(kobj);
	return ret;
}
