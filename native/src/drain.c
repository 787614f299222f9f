/*
 * The drain thread: consumes one BPF ring buffer into batches and queues them for JavaScript.
 *
 * Why the loop looks the way it does:
 * - The kernel programs submit with BPF_RB_NO_WAKEUP (a wakeup per record costs ~2 us here), so
 *   the ring rarely signals; the thread wakes at least every flushMs and always consumes.
 *   (libbpf 1.1's ring_buffer__poll would skip a ring that did not signal.) The thread waits on
 *   its own epoll set holding libbpf's epoll fd and an eventfd, so stop() and close() wake it
 *   at once instead of after a poll timeout.
 * - At most QUEUE_MAX batches are queued for JavaScript or delivered in the current turn of
 *   the event loop (ring.c ends a turn with setImmediate). When JavaScript is slower than the
 *   kernel the thread blocks inside the sample callback, before libbpf advances the consumer
 *   position, so the backlog stays in the ring and the kernel programs count what does not fit
 *   there.
 * - A batch is malloc'd once and handed over whole: ring.c makes it an external Buffer (no
 *   copy) that JavaScript may keep.
 */
#include "ring.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define CLOCK_EVERY 1024 /* records between flush-deadline checks during a long consume */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool aborted(struct vg_ring *r)
{
	return __atomic_load_n(&r->abort, __ATOMIC_ACQUIRE);
}

/* Gives r->cur to JavaScript, waiting while the turn is full. False: stop now. */
static bool hand_over(struct vg_ring *r)
{
	struct vg_batch *b = r->cur;
	napi_status status;

	r->cur = NULL;
	if (b->len < b->cap / 2) {
		/* A batch flushed by the timer: JavaScript may keep it, so give back the unused
		 * room (glibc shrinks large blocks with mremap, without copying). */
		struct vg_batch *small = realloc(b, sizeof(*b) + b->len);

		if (small) {
			b = small;
			b->cap = b->len;
		}
	}
	pthread_mutex_lock(&r->mu);
	while (r->queued + r->turn >= QUEUE_MAX && !r->abort)
		pthread_cond_wait(&r->room, &r->mu);
	if (r->abort) {
		pthread_mutex_unlock(&r->mu);
		free(b);
		return false;
	}
	r->queued++;
	pthread_mutex_unlock(&r->mu);
	status = napi_call_threadsafe_function(r->tsfn, b, napi_tsfn_nonblocking);
	if (status != napi_ok) {
		/* napi_closing: Node has already dropped this thread's claim on the function. */
		r->closing = true;
		pthread_mutex_lock(&r->mu);
		r->queued--;
		pthread_mutex_unlock(&r->mu);
		free(b);
		return false;
	}
	return true;
}

static bool new_batch(struct vg_ring *r)
{
	struct vg_batch *b;

	while (!(b = malloc(sizeof(*b) + r->batch_bytes))) {
		/* Out of memory: wait rather than drop; the ring holds the records meanwhile. */
		struct timespec pause = {0, 1000000};

		if (aborted(r))
			return false;
		nanosleep(&pause, NULL);
	}
	b->len = 0;
	b->cap = r->batch_bytes;
	b->records = 0;
	r->cur = b;
	r->deadline = now_ns() + (uint64_t)r->flush_ms * 1000000ULL;
	return true;
}

/* stop() was called: from now on the consume is the final one. */
static void begin_final(struct vg_ring *r)
{
	r->final = true;
	r->final_budget = r->ring_bytes;
}

/* libbpf's sample callback; a negative return stops the consume at this record. */
int vg_drain_record(void *ctx, void *data, size_t size)
{
	struct vg_ring *r = ctx;
	size_t need = (4 + size + 7) & ~(size_t)7;
	uint32_t len_le = htole32((uint32_t)size);
	unsigned char *p;

	if (r->final) {
		/* stop()'s final consume takes at most one ring's worth (what can have been there
		 * when stop() was called), however fast the producers go on writing. */
		size_t used = (size + 8 + 7) & ~(size_t)7; /* the record's room in the ring */

		if (used > r->final_budget)
			return -ECANCELED;
		r->final_budget -= used;
	}
	if (need > r->batch_bytes) {
		__atomic_fetch_add(&r->oversized, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (r->cur && r->cur->len + need > r->cur->cap && !hand_over(r))
		return -ECANCELED;
	if (!r->cur && !new_batch(r))
		return -ECANCELED;
	p = r->cur->data + r->cur->len;
	memcpy(p, &len_le, 4);
	memcpy(p + 4, data, size);
	memset(p + 4 + size, 0, need - 4 - size);
	r->cur->len += need;
	r->cur->records++;
	/* A consume lasts as long as the producers keep up: keep the flush promise meanwhile. */
	if (++r->tick >= CLOCK_EVERY) {
		r->tick = 0;
		if (aborted(r))
			return -ECANCELED;
		if (!r->final && __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			begin_final(r);
		if (now_ns() >= r->deadline && !hand_over(r))
			return -ECANCELED;
	}
	return 0;
}

static int poll_timeout(struct vg_ring *r)
{
	uint64_t now;

	if (!r->cur)
		return r->flush_ms;
	now = now_ns();
	if (now >= r->deadline)
		return 0;
	return (int)((r->deadline - now + 999999) / 1000000);
}

void *vg_drain(void *arg)
{
	struct vg_ring *r = arg;
	struct epoll_event events[2];
	bool stopping;
	int i, n;

	for (;;) {
		n = epoll_wait(r->epfd, events, 2, poll_timeout(r));
		for (i = 0; i < n; i++) {
			uint64_t count;

			if (events[i].data.u32 == WAKE_ID && read(r->evfd, &count, sizeof(count)) < 0) {
				/* EAGAIN: already read */
			}
		}
		pthread_mutex_lock(&r->mu);
		stopping = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stopping && !r->final)
			begin_final(r);
		if (aborted(r))
			break;
		/* Errors other than our own -ECANCELED cannot happen on a mapped ring; ignore. */
		ring_buffer__consume(r->rb);
		if (r->closing || aborted(r))
			break;
		if (r->cur && r->cur->records && (stopping || now_ns() >= r->deadline) &&
		    !hand_over(r))
			break;
		if (stopping) {
			free(r->cur); /* an empty batch, if any */
			r->cur = NULL;
			napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
			return NULL; /* r may be freed from here on */
		}
	}
	free(r->cur);
	r->cur = NULL;
	if (!r->closing)
		napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
	return NULL;
}
