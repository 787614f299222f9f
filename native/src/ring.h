/*
 * Ring: one BPF ring buffer drained on a thread of its own (drain.c) into batches that the
 * JavaScript side (ring.c) hands to the onBatch callback, one Buffer per call, never one call
 * per record.
 *
 * Batch format (bridge.ts): per record a u32 length (little endian), the record bytes, zero
 * padding to an 8-byte boundary. A batch goes to JavaScript when the next record would not fit
 * or when flushMs have passed since its first record. A record whose entry alone exceeds
 * batchBytes is counted as oversized and skipped.
 */
#ifndef VIGIL_RING_H
#define VIGIL_RING_H

#include "bridge.h"

#include <pthread.h>

#define QUEUE_MAX 16 /* batches queued for, or delivered to, JavaScript in one turn */
#define WAKE_ID 1    /* epoll tag of the eventfd; libbpf's epoll fd is 0 */

struct vg_batch {
	uint64_t len; /* bytes used in data */
	uint64_t cap;
	uint64_t records;
	uint64_t reserved; /* keeps data 16-byte aligned, as malloc's block is */
	unsigned char data[];
};

struct vg_ring {
	/* Set before the thread starts, then read-only. */
	napi_threadsafe_function tsfn;
	struct ring_buffer *rb;
	int epfd, evfd;
	size_t batch_bytes;
	uint64_t ring_bytes; /* the ring's data size (max_entries) */
	int flush_ms;
	char map[256];
	pthread_t thread;
	bool started;

	/* Shared with the drain thread, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t room;
	unsigned queued; /* batches given to the thread-safe function, not yet delivered */
	unsigned turn;   /* batches delivered in this turn of the event loop */
	bool stop;  /* both also read without mu (atomically) by the sample callback */
	bool abort;

	/* The drain thread's own. */
	struct vg_batch *cur;
	uint64_t deadline; /* CLOCK_MONOTONIC ns at which cur must go */
	unsigned tick;
	bool final;            /* stop() seen: this is the final consume */
	uint64_t final_budget; /* ring bytes the final consume may still take */
	bool closing; /* Node refused a batch: the environment is going away */

	uint64_t oversized; /* written by the thread (atomically), read by stats() */

	/* The JavaScript thread's own. */
	int refs;
	bool joined, finished, hooked;
	uint64_t records, batches, bytes;
	struct vg_object *owner; /* NULL once the owner has closed or the ring has finished */
	struct vg_ring *next;    /* in owner->rings */
	napi_ref object_ref;     /* the owning BpfObject, while the thread runs */
	napi_deferred deferred;  /* stop()'s promise, until the ring finishes */
	napi_ref promise_ref;
	napi_ref turn_fn;  /* end_turn bound to this ring, for setImmediate */
	bool turn_pending; /* an end_turn is scheduled (and holds a reference) */
};

/* drain.c: the thread's body, and libbpf's sample callback (ctx is the ring). */
void *vg_drain(void *arg);
int vg_drain_record(void *ctx, void *data, size_t size);

#endif
