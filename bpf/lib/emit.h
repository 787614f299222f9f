/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Building and sending records. A record is built in a per-CPU scratch buffer (records are too
 * large for the 512-byte BPF stack) and copied into the ring buffer with only the bytes in use.
 *
 * The scratch buffers are safe to share between all of the sensor's programs because those run
 * on tracepoints (sched and syscall), in process context with preemption disabled, so two of them
 * never interleave on one CPU. A program that can run in interrupt context needs its own buffer.
 */
#ifndef VIGIL_LIB_EMIT_H
#define VIGIL_LIB_EMIT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "vigil.h"

/* The records for the agent; its size may be changed before load (a power of two of pages). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps") __weak;

/* Indexed by enum vg_counter; per CPU, so increments need no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} vg_counters SEC(".maps") __weak;

struct vigil_record_buf {
	__u8 bytes[VG_RECORD_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_record_buf);
} vg_record_buf SEC(".maps") __weak;

/*
 * Records are sent without waking the reader, which drains on a timer: a wakeup per record
 * costs more than the rest of the event. Once this many bytes wait, the reader is woken so a
 * burst cannot fill the ring between two drains. Set by the agent before load.
 */
const volatile __u32 vg_wakeup_bytes __weak = 4 << 20;

static __always_inline void vg_count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&vg_counters, &counter);

	if (value)
		*value += 1;
}

/*
 * @v, already tested to be at most @max, bounded again where the verifier sees it: one compare
 * with an immediate on the very register used next. Older verifiers (6.1) keep no bound from a
 * test made on a copy, or made with the constant in a register, and walk branches a second
 * test of the same bound cannot take.
 */
#define vg_bound(v, max)                                                                 \
	({                                                                               \
		__u64 __v = (v);                                                         \
		asm volatile("if %[r] <= %[m] goto +1; %[r] = %[m]" : [r] "+r"(__v) : [m] "i"(max)); \
		__v;                                                                     \
	})

/* The scratch buffer to build a record in; NULL never happens in practice but must be checked. */
static __always_inline void *vg_record_start(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vg_record_buf, &zero);
}

/* Sends the first @size bytes of @rec (a buffer from vg_record_start); sets hdr.size. */
static __always_inline void vg_record_send(void *rec, __u64 size)
{
	struct vg_header *hdr = rec;
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (size < sizeof(*hdr)) {
		vg_count(VG_COUNTER_LOST);
		return;
	}
	/*
	 * Compared on its own and whole (64 bits): clang folds the two tests into one on size minus
	 * a constant, or on a truncated copy, whose bound the verifiers of older kernels (6.1) do
	 * not carry back to the register the ring is given.
	 */
	barrier_var(size);
	if (size > VG_RECORD_MAX) {
		vg_count(VG_COUNTER_LOST);
		return;
	}
	hdr->size = size;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= vg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, rec, size, flags))
		vg_count(VG_COUNTER_LOST);
}

#endif /* VIGIL_LIB_EMIT_H */
