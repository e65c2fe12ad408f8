// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic rebuilds of the deadlocks that a synchronous migration batch
 * meets when it sleeps after taking its first folio lock, to test the
 * first-lock rule of migrate_pages_batch().  For tests only.
 *
 * /sys/kernel/debug/migrate_lockrule/
 *   device   path of a block device whose page cache the scenarios migrate
 *   naive    Y: synchronous batches sleep after their first folio lock again,
 *            the negative control (the scenarios then deadlock until the
 *            watchdog breaks them)
 *   hang_ms  how long a scenario may run before the watchdog declares a hang
 *            and breaks it (100..60000)
 *   release_hold_ms
 *            how long the kthread keeps a reference on B after releasing it
 *            (0..1000, default 0), as folio_end_writeback() keeps one for a
 *            moment, which a preempted CPU stretches
 *   run      write a scenario name to run it: "writeback" or "buffer"
 *   result   the outcome of the last run, as key=value pairs
 *
 * Both scenarios migrate page-cache folios A and B of the device, in that
 * order, with one MIGRATE_SYNC call to migrate_pages(), to the other node.
 * The batch locks A first, so A leads it.  A kthread wants A's lock as soon
 * as the batch holds it (the batch allocates both destinations before it
 * locks A; the kthread then watches A's lock):
 *
 *   writeback  B is under writeback, which the kthread ends only once it has
 *              locked A: a loop device worker on tmpfs (seed 000).
 *   buffer     the kthread holds the lock of B's first buffer, and lets it
 *              go only once it has locked A: jbd2 (seed 001).
 *
 * With the rule kept, the batch defers B and then A, whose move fails while
 * the kthread holds a reference on it and waits for its lock; unlocked, A
 * lets the kthread release B, and later batches migrate both.  (When the
 * kthread comes too late to find A locked, contended=0, it locks A once
 * the first batch is over.)  Before B's second attempt, with no folio lock
 * held, the writeback rebuild waits for the kthread to finish: a reference
 * it still holds on B would fail B's bounded attempts in any kernel.  With the
 * naive rule, the batch sleeps on B while it holds A: the watchdog ends B's
 * writeback or unlocks B's buffer itself after hang_ms and reports hang=1.
 */

#define pr_fmt(fmt) "migrate_lockrule: " fmt

#include <linux/blkdev.h>
#include <linux/buffer_head.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/workqueue.h>

#include "internal.h"

#define LOCKRULE_RESULT_SIZE	256

enum lockrule_scenario {
	LOCKRULE_WRITEBACK,
	LOCKRULE_BUFFER,
	LOCKRULE_NR_SCENARIOS,
};

static const char * const lockrule_scenario_names[] = {
	[LOCKRULE_WRITEBACK] = "writeback",
	[LOCKRULE_BUFFER] = "buffer",
};

/**
 * struct lockrule_run - one run of a scenario
 * @scenario:		what B is held by
 * @mapping:		the device's page cache
 * @index_a:		A's index in @mapping
 * @index_b:		B's index in @mapping
 * @b:			B, under writeback until released (writeback scenario)
 * @b_buffer:		B's first buffer, locked until released (buffer scenario)
 * @target_nid:		the node the folios migrate to
 * @waiter:		the kthread that wants A
 * @waiter_ready:	the kthread holds what it must hold
 * @batch_started:	the batch asked for B's destination, before it locks A
 * @waiter_done:	the kthread has locked A, released B and finished
 *			(completed for every waiter)
 * @watchdog:		breaks the deadlock after hang_ms
 * @released:		B's writeback was ended, or its buffer unlocked
 * @b_dst_calls:	how many times B's destination was asked for
 * @first_batch_over:	the first batch no longer holds A: B's destination
 *			was asked for again (the one-by-one part) or
 *			migrate_pages() returned
 * @contended:		the kthread found A locked by the batch
 * @hang:		the watchdog had to release B
 * @late_release:	B's second attempt waited hang_ms for the kthread in
 *			vain
 */
struct lockrule_run {
	enum lockrule_scenario scenario;
	struct address_space *mapping;
	pgoff_t index_a;
	pgoff_t index_b;
	struct folio *b;
	struct buffer_head *b_buffer;
	int target_nid;
	struct task_struct *waiter;
	struct completion waiter_ready;
	struct completion batch_started;
	struct completion waiter_done;
	struct delayed_work watchdog;
	atomic_t released;
	unsigned int b_dst_calls;
	bool first_batch_over;
	bool contended;
	bool hang;
	bool late_release;
};

static DEFINE_MUTEX(lockrule_mutex);
static char lockrule_device[64];
static u32 lockrule_hang_ms = 5000;
static u32 lockrule_release_hold_ms;
static char lockrule_result[LOCKRULE_RESULT_SIZE];

/*
 * End B's writeback or unlock B's buffer, once, whoever comes first, and keep
 * a reference on B for @hold_ms more, if not 0.  B cannot migrate before it
 * is released, so it is still there to take a reference on.
 */
static void lockrule_release_b(struct lockrule_run *run, unsigned int hold_ms)
{
	if (atomic_xchg(&run->released, 1))
		return;
	if (hold_ms)
		folio_get(run->b);
	if (run->scenario == LOCKRULE_WRITEBACK)
		folio_end_writeback(run->b);
	else
		unlock_buffer(run->b_buffer);
	if (hold_ms) {
		msleep(hold_ms);
		folio_put(run->b);
	}
}

static int lockrule_waiter_fn(void *data)
{
	struct lockrule_run *run = data;
	struct folio *a;

	if (run->scenario == LOCKRULE_BUFFER)
		lock_buffer(run->b_buffer);
	complete(&run->waiter_ready);

	wait_for_completion(&run->batch_started);
	/*
	 * What a loop worker or jbd2 does: look A up and lock it, here as
	 * soon as the batch holds it, so that it waits for the batch.
	 */
	a = filemap_get_folio(run->mapping, run->index_a);
	if (!IS_ERR(a)) {
		while (!folio_test_locked(a) && !READ_ONCE(run->first_batch_over))
			cond_resched();
		run->contended = folio_test_locked(a);
		folio_lock(a);
	}
	lockrule_release_b(run, READ_ONCE(lockrule_release_hold_ms));
	if (!IS_ERR(a)) {
		/*
		 * Drop the lookup's reference before the lock: the page cache
		 * and the isolation keep A, and the batch that waits for the
		 * lock then finds the references it expects.
		 */
		folio_put(a);
		folio_unlock(a);
	}
	complete_all(&run->waiter_done);
	return 0;
}

static void lockrule_watchdog_fn(struct work_struct *work)
{
	struct lockrule_run *run = container_of(to_delayed_work(work),
						struct lockrule_run, watchdog);

	if (atomic_read(&run->released))
		return;
	run->hang = true;
	pr_info("%s: no progress after %u ms, releasing B\n",
		lockrule_scenario_names[run->scenario], lockrule_hang_ms);
	lockrule_release_b(run, 0);
}

/*
 * Before B's second attempt, in writeback: no folio lock is held before a
 * batch has its destinations, so let the kthread finish: its reference on B
 * (folio_end_writeback() takes one for a moment) would fail B's bounded
 * attempts in any kernel.  Buffers hold no folio reference: there B's
 * attempt may still sleep on the buffer lock, in the caller's mode.
 */
static void lockrule_wait_for_release(struct lockrule_run *run)
{
	if (run->scenario != LOCKRULE_WRITEBACK || completion_done(&run->waiter_done))
		return;
	if (!wait_for_completion_timeout(&run->waiter_done,
					 msecs_to_jiffies(READ_ONCE(lockrule_hang_ms))))
		run->late_release = true;
}

static struct folio *lockrule_alloc_dst(struct folio *src, unsigned long private)
{
	struct lockrule_run *run = (struct lockrule_run *)private;

	if (src->mapping == run->mapping && src->index == run->index_b) {
		if (!run->b_dst_calls++) {
			complete(&run->batch_started);
		} else {
			WRITE_ONCE(run->first_batch_over, true);
			lockrule_wait_for_release(run);
		}
	}
	return __folio_alloc_node(GFP_HIGHUSER_MOVABLE | __GFP_THISNODE,
				  folio_order(src), run->target_nid);
}

/* The node of the folio at @index now, or NUMA_NO_NODE if none is cached. */
static int lockrule_cached_nid(struct address_space *mapping, pgoff_t index)
{
	struct folio *folio = filemap_get_folio(mapping, index);
	int nid;

	if (IS_ERR(folio))
		return NUMA_NO_NODE;
	nid = folio_nid(folio);
	folio_put(folio);
	return nid;
}

/* Read A and B into the page cache and isolate them, A first on @list. */
static int lockrule_isolate(struct lockrule_run *run, struct file *file,
			    struct list_head *list)
{
	pgoff_t indexes[] = { run->index_a, run->index_b };
	struct folio *folios[ARRAY_SIZE(indexes)];
	int nr_read, i, err = 0;

	for (nr_read = 0; nr_read < ARRAY_SIZE(indexes); nr_read++) {
		struct folio *folio = read_mapping_folio(run->mapping,
							 indexes[nr_read], file);

		if (IS_ERR(folio)) {
			err = PTR_ERR(folio);
			goto put_read;
		}
		folios[nr_read] = folio;
		if (folio_test_large(folio) || !folio_buffers(folio)) {
			nr_read++;
			err = -EOPNOTSUPP;
			goto put_read;
		}
	}
	lru_add_drain_all();
	for (i = 0; i < nr_read; i++) {
		LIST_HEAD(one);

		if (!isolate_folio_to_list(folios[i], &one)) {
			err = -EBUSY;
			goto put_read;
		}
		list_splice_tail(&one, list);
	}
	run->b = folios[1];
	run->b_buffer = folio_buffers(folios[1]);
	run->target_nid = folio_nid(folios[0]) ? 0 : 1;
put_read:
	/* The isolation references remain, as migrate_pages() expects. */
	for (i = 0; i < nr_read; i++)
		folio_put(folios[i]);
	return err;
}

static void lockrule_report(struct lockrule_run *run, int rc,
			    unsigned int succeeded, long violations,
			    unsigned long start)
{
	snprintf(lockrule_result, sizeof(lockrule_result),
		 "scenario=%s naive=%d hang=%d late=%d contended=%d rc=%d succeeded=%u target=%d a_nid=%d b_nid=%d violations=%ld ms=%u\n",
		 lockrule_scenario_names[run->scenario],
		 migrate_lockrule_naive, run->hang, run->late_release, run->contended,
		 rc, succeeded,
		 run->target_nid,
		 lockrule_cached_nid(run->mapping, run->index_a),
		 lockrule_cached_nid(run->mapping, run->index_b), violations,
		 jiffies_to_msecs(jiffies - start));
}

static int lockrule_start_waiter(struct lockrule_run *run)
{
	run->waiter = kthread_create(lockrule_waiter_fn, run, "lockrule_%s",
				     lockrule_scenario_names[run->scenario]);
	if (IS_ERR(run->waiter))
		return PTR_ERR(run->waiter);
	get_task_struct(run->waiter);
	wake_up_process(run->waiter);
	wait_for_completion(&run->waiter_ready);
	return 0;
}

static int lockrule_migrate(struct lockrule_run *run, struct list_head *list)
{
	unsigned long start = jiffies;
	long violations = atomic_long_read(&migrate_batch_sleep_violations);
	unsigned int succeeded = 0;
	int rc;

	schedule_delayed_work(&run->watchdog, msecs_to_jiffies(lockrule_hang_ms));
	rc = migrate_pages(list, lockrule_alloc_dst, NULL, (unsigned long)run,
			   MIGRATE_SYNC, MR_SYSCALL, &succeeded);
	if (!list_empty(list))
		putback_movable_pages(list);
	/* The batch no longer holds A: the kthread gets it and finishes. */
	WRITE_ONCE(run->first_batch_over, true);
	if (!run->b_dst_calls)
		complete(&run->batch_started);
	wait_for_completion(&run->waiter_done);
	cancel_delayed_work_sync(&run->watchdog);
	lockrule_report(run, rc, succeeded,
			atomic_long_read(&migrate_batch_sleep_violations) - violations,
			start);
	return rc < 0 ? rc : 0;
}

static int lockrule_run_scenario(enum lockrule_scenario scenario)
{
	struct lockrule_run *run;
	struct file *file;
	LIST_HEAD(list);
	int err;

	if (num_online_nodes() < 2) {
		pr_warn("needs two online nodes\n");
		return -ENODEV;
	}
	if (!lockrule_device[0]) {
		pr_warn("write a block device path to device first\n");
		return -ENODEV;
	}
	file = filp_open(lockrule_device, O_RDONLY | O_LARGEFILE, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	if (!S_ISBLK(file_inode(file)->i_mode)) {
		pr_warn("%s is not a block device\n", lockrule_device);
		err = -ENOTBLK;
		goto close_file;
	}
	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run) {
		err = -ENOMEM;
		goto close_file;
	}
	run->scenario = scenario;
	run->mapping = file->f_mapping;
	run->index_a = 0;
	run->index_b = 1;
	init_completion(&run->waiter_ready);
	init_completion(&run->batch_started);
	init_completion(&run->waiter_done);
	INIT_DELAYED_WORK(&run->watchdog, lockrule_watchdog_fn);

	err = lockrule_isolate(run, file, &list);
	if (err)
		goto putback;
	if (scenario == LOCKRULE_WRITEBACK) {
		folio_lock(run->b);
		folio_start_writeback(run->b);
		folio_unlock(run->b);
	}
	err = lockrule_start_waiter(run);
	if (err)
		goto release_b;
	err = lockrule_migrate(run, &list);
	put_task_struct(run->waiter);
release_b:
	lockrule_release_b(run, 0);
putback:
	if (!list_empty(&list))
		putback_movable_pages(&list);
	kfree(run);
close_file:
	filp_close(file, NULL);
	return err;
}

static ssize_t lockrule_run_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	char name[16];
	int scenario, err;

	if (count >= sizeof(name))
		return -EINVAL;
	if (copy_from_user(name, ubuf, count))
		return -EFAULT;
	name[count] = '\0';
	scenario = sysfs_match_string(lockrule_scenario_names, strim(name));
	if (scenario < 0) {
		pr_warn("unknown scenario '%s': writeback or buffer\n", strim(name));
		return -EINVAL;
	}
	mutex_lock(&lockrule_mutex);
	err = lockrule_run_scenario(scenario);
	mutex_unlock(&lockrule_mutex);
	return err ? err : count;
}

static const struct file_operations lockrule_run_fops = {
	.owner = THIS_MODULE,
	.write = lockrule_run_write,
};

static ssize_t lockrule_device_write(struct file *file, const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	char path[sizeof(lockrule_device)];

	if (!count || count >= sizeof(path))
		return -EINVAL;
	if (copy_from_user(path, ubuf, count))
		return -EFAULT;
	path[count] = '\0';
	mutex_lock(&lockrule_mutex);
	strscpy(lockrule_device, strim(path), sizeof(lockrule_device));
	mutex_unlock(&lockrule_mutex);
	return count;
}

static ssize_t lockrule_device_read(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	char path[sizeof(lockrule_device) + 1];
	int len;

	mutex_lock(&lockrule_mutex);
	len = scnprintf(path, sizeof(path), "%s\n", lockrule_device);
	mutex_unlock(&lockrule_mutex);
	return simple_read_from_buffer(ubuf, count, ppos, path, len);
}

static const struct file_operations lockrule_device_fops = {
	.owner = THIS_MODULE,
	.read = lockrule_device_read,
	.write = lockrule_device_write,
};

static int lockrule_hang_ms_set(void *data, u64 value)
{
	if (value < 100 || value > 60000)
		return -EINVAL;
	WRITE_ONCE(lockrule_hang_ms, value);
	return 0;
}

static int lockrule_hang_ms_get(void *data, u64 *value)
{
	*value = READ_ONCE(lockrule_hang_ms);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(lockrule_hang_ms_fops, lockrule_hang_ms_get,
			 lockrule_hang_ms_set, "%llu\n");

static int lockrule_release_hold_ms_set(void *data, u64 value)
{
	if (value > 1000)
		return -EINVAL;
	WRITE_ONCE(lockrule_release_hold_ms, value);
	return 0;
}

static int lockrule_release_hold_ms_get(void *data, u64 *value)
{
	*value = READ_ONCE(lockrule_release_hold_ms);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(lockrule_release_hold_ms_fops,
			 lockrule_release_hold_ms_get,
			 lockrule_release_hold_ms_set, "%llu\n");

static ssize_t lockrule_result_read(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	char result[LOCKRULE_RESULT_SIZE];

	mutex_lock(&lockrule_mutex);
	strscpy(result, lockrule_result, sizeof(result));
	mutex_unlock(&lockrule_mutex);
	return simple_read_from_buffer(ubuf, count, ppos, result,
				       strlen(result));
}

static const struct file_operations lockrule_result_fops = {
	.owner = THIS_MODULE,
	.read = lockrule_result_read,
};

static int __init lockrule_init(void)
{
	struct dentry *dir = debugfs_create_dir("migrate_lockrule", NULL);

	debugfs_create_file("device", 0600, dir, NULL, &lockrule_device_fops);
	debugfs_create_bool("naive", 0600, dir, &migrate_lockrule_naive);
	debugfs_create_file_unsafe("hang_ms", 0600, dir, NULL,
				   &lockrule_hang_ms_fops);
	debugfs_create_file_unsafe("release_hold_ms", 0600, dir, NULL,
				   &lockrule_release_hold_ms_fops);
	debugfs_create_file("run", 0200, dir, NULL, &lockrule_run_fops);
	debugfs_create_file("result", 0400, dir, NULL, &lockrule_result_fops);
	return 0;
}
late_initcall(lockrule_init);
