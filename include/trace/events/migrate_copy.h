/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM migrate_copy

#if !defined(_TRACE_MIGRATE_COPY_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MIGRATE_COPY_H

#include <linux/tracepoint.h>

/**
 * migrate_copy_batch - a batch copy of migrating folios finished
 * @engine: name of the copy engine that ran it
 * @folios: folios in the batch
 * @bytes: their total size
 * @ns: time the engine took, in nanoseconds
 * @failures: folios the engine failed, copied again on the CPU
 * @reason: enum migrate_reason of the migration
 */
TRACE_EVENT(migrate_copy_batch,

	TP_PROTO(const char *engine, unsigned int folios, size_t bytes, u64 ns,
		 unsigned int failures, int reason),

	TP_ARGS(engine, folios, bytes, ns, failures, reason),

	TP_STRUCT__entry(
		__string(engine, engine)
		__field(unsigned int, folios)
		__field(size_t, bytes)
		__field(u64, ns)
		__field(unsigned int, failures)
		__field(int, reason)
	),

	TP_fast_assign(
		__assign_str(engine);
		__entry->folios = folios;
		__entry->bytes = bytes;
		__entry->ns = ns;
		__entry->failures = failures;
		__entry->reason = reason;
	),

	TP_printk("engine=%s folios=%u bytes=%zu ns=%llu failures=%u reason=%d",
		  __get_str(engine), __entry->folios, __entry->bytes,
		  __entry->ns, __entry->failures, __entry->reason)
);

#endif /* _TRACE_MIGRATE_COPY_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
