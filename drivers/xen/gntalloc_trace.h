/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of xen-gntalloc: the "gntalloc" trace system.
 *
 * One event per step of a grant's life; Documentation/admin-guide/
 * xen-gntalloc.rst shows how to read them with tracefs, perf and bpftrace.
 * Indexes are byte offsets as userspace sees them; pid is the thread group
 * (process) that made the call.
 */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM gntalloc

#if !defined(_GNTALLOC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GNTALLOC_TRACE_H

#include <linux/tracepoint.h>

/* A range of pages of one file: DEALLOC, mmap and munmap */
DECLARE_EVENT_CLASS(gntalloc_range,
		    TP_PROTO(u64 index, unsigned int count),
		    TP_ARGS(index, count),
		    TP_STRUCT__entry(__field(u64, index)
				     __field(unsigned int, count)
				     __field(pid_t, pid)),
		    TP_fast_assign(__entry->index = index;
				   __entry->count = count;
				   __entry->pid = task_tgid_nr(current);),
		    TP_printk("pid=%d index=0x%llx count=%u",
			      __entry->pid, __entry->index, __entry->count)
);

DEFINE_EVENT(gntalloc_range, gntalloc_dealloc,
	     TP_PROTO(u64 index, unsigned int count),
	     TP_ARGS(index, count)
);

DEFINE_EVENT(gntalloc_range, gntalloc_mmap,
	     TP_PROTO(u64 index, unsigned int count),
	     TP_ARGS(index, count)
);

DEFINE_EVENT(gntalloc_range, gntalloc_munmap,
	     TP_PROTO(u64 index, unsigned int count),
	     TP_ARGS(index, count)
);

TRACE_EVENT(gntalloc_alloc,
	    TP_PROTO(u64 index, unsigned int count, u16 domid, bool writable,
		     u32 first_gref),
	    TP_ARGS(index, count, domid, writable, first_gref),
	    TP_STRUCT__entry(__field(u64, index)
			     __field(unsigned int, count)
			     __field(u32, first_gref)
			     __field(pid_t, pid)
			     __field(u16, domid)
			     __field(bool, writable)),
	    TP_fast_assign(__entry->index = index;
			   __entry->count = count;
			   __entry->first_gref = first_gref;
			   __entry->pid = task_tgid_nr(current);
			   __entry->domid = domid;
			   __entry->writable = writable;),
	    TP_printk("pid=%d index=0x%llx count=%u domid=%u writable=%d first_gref=%u",
		      __entry->pid, __entry->index, __entry->count,
		      __entry->domid, __entry->writable, __entry->first_gref)
);

/*
 * An ALLOC was refused or failed for want of something: cause is the
 * gntalloc_cause (gntalloc-common.h), printed as its number and, in
 * parentheses, its name (the counters of sysfs are named after it).
 */
TRACE_DEFINE_ENUM(GNTALLOC_CAUSE_LIMIT);
TRACE_DEFINE_ENUM(GNTALLOC_CAUSE_DOMAIN);
TRACE_DEFINE_ENUM(GNTALLOC_CAUSE_FILE);
TRACE_DEFINE_ENUM(GNTALLOC_CAUSE_RESERVE);
TRACE_DEFINE_ENUM(GNTALLOC_CAUSE_TABLE_FULL);
TRACE_DEFINE_ENUM(GNTALLOC_CAUSE_NOMEM);

TRACE_EVENT(gntalloc_alloc_fail,
	    TP_PROTO(unsigned int count, u16 domid, unsigned int cause),
	    TP_ARGS(count, domid, cause),
	    TP_STRUCT__entry(__field(unsigned int, count)
			     __field(unsigned int, cause)
			     __field(pid_t, pid)
			     __field(u16, domid)),
	    TP_fast_assign(__entry->count = count;
			   __entry->cause = cause;
			   __entry->pid = task_tgid_nr(current);
			   __entry->domid = domid;),
	    TP_printk("pid=%d count=%u domid=%u cause=%u (%s)",
		      __entry->pid, __entry->count, __entry->domid,
		      __entry->cause,
		      __print_symbolic(__entry->cause,
				       { GNTALLOC_CAUSE_LIMIT, "limit" },
				       { GNTALLOC_CAUSE_DOMAIN, "domain_limit" },
				       { GNTALLOC_CAUSE_FILE, "file_limit" },
				       { GNTALLOC_CAUSE_RESERVE, "reserve" },
				       { GNTALLOC_CAUSE_TABLE_FULL, "table_full" },
				       { GNTALLOC_CAUSE_NOMEM, "nomem" }))
);

/* One grant went pending (its peer still maps it), or came back */
DECLARE_EVENT_CLASS(gntalloc_grant,
		    TP_PROTO(u32 gref, u16 domid),
		    TP_ARGS(gref, domid),
		    TP_STRUCT__entry(__field(u32, gref)
				     __field(u16, domid)),
		    TP_fast_assign(__entry->gref = gref;
				   __entry->domid = domid;),
		    TP_printk("gref=%u domid=%u", __entry->gref, __entry->domid)
);

DEFINE_EVENT(gntalloc_grant, gntalloc_pending,
	     TP_PROTO(u32 gref, u16 domid),
	     TP_ARGS(gref, domid)
);

DEFINE_EVENT(gntalloc_grant, gntalloc_reclaim,
	     TP_PROTO(u32 gref, u16 domid),
	     TP_ARGS(gref, domid)
);

/* An unmap notification fired */
TRACE_EVENT(gntalloc_notify,
	    TP_PROTO(u32 gref, u16 domid, u8 action, u16 offset, u32 port),
	    TP_ARGS(gref, domid, action, offset, port),
	    TP_STRUCT__entry(__field(u32, gref)
			     __field(u32, port)
			     __field(u16, domid)
			     __field(u16, offset)
			     __field(u8, action)),
	    TP_fast_assign(__entry->gref = gref;
			   __entry->port = port;
			   __entry->domid = domid;
			   __entry->offset = offset;
			   __entry->action = action;),
	    TP_printk("gref=%u domid=%u action=%u offset=%u port=%u",
		      __entry->gref, __entry->domid, __entry->action,
		      __entry->offset, __entry->port)
);

#endif /* _GNTALLOC_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE gntalloc_trace
#include <trace/define_trace.h>
