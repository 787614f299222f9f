/*
 * Ring: the JavaScript side of a ring drain (drain.c is the thread): openRing, delivering the
 * batches to onBatch, stop(), stats(), and the abort that BpfObject.close() performs.
 *
 * Counting batches per turn of the event loop (see end_turn) matters: Node delivers a
 * thread-safe function's queue for up to 1000 calls before it lets timers and I/O run, which
 * under a flood of events would starve the rest of the agent for seconds.
 *
 * Life cycle. stop(): the thread does a final consume, hands over the partial batch and releases
 * the thread-safe function; Node calls its finalizer once every queued batch has been delivered,
 * and that resolves stop()'s promise. Abort (the owning object's close(), or the environment
 * going away): the thread is woken, even from a full queue, releases the function in abort mode
 * (queued batches are freed undelivered) and is joined before close() returns.
 *
 * Memory: the ring struct is shared by the Ring object, the thread-safe function, the owning
 * BpfObject and a pending end_turn, counted in `refs` (only touched on the JavaScript thread);
 * the last one frees it. A running ring keeps a reference to its BpfObject so that the object is
 * not collected (and its rings aborted) while only the ring's callback is reachable.
 */
#include "ring.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MIN_BATCH_BYTES 64
#define MAX_BATCH_BYTES (1u << 30)
#define MAX_FLUSH_MS 600000

/* The ring a Ring constructor call is for: only openRing can construct one. */
static struct vg_ring *constructing;

static void wake(struct vg_ring *r)
{
	uint64_t one = 1;

	if (write(r->evfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the thread is awake already. */
	}
}

static void ring_unref(struct vg_ring *r)
{
	if (--r->refs > 0)
		return;
	ring_buffer__free(r->rb);
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->evfd >= 0)
		close(r->evfd);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->room);
	free(r);
}

static void batch_free(napi_env env, void *data, void *hint)
{
	struct vg_batch *b = hint;
	int64_t ignored;

	(void)data;
	napi_adjust_external_memory(env, -(int64_t)b->cap, &ignored);
	free(b);
}

/* setImmediate callback: the event loop has turned, the thread may queue a full turn again. */
static napi_value end_turn(napi_env env, napi_callback_info info)
{
	struct vg_ring *r = NULL;

	napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&r);
	r->turn_pending = false;
	pthread_mutex_lock(&r->mu);
	r->turn = 0;
	pthread_cond_signal(&r->room);
	pthread_mutex_unlock(&r->mu);
	ring_unref(r);
	return NULL;
}

/* Schedules end_turn once per turn; if that cannot be done, the turn ends now (no fairness,
 * but no stall either). */
static void schedule_end_turn(napi_env env, struct vg_ring *r)
{
	napi_value global, set_immediate, fn, ignored;

	if (r->turn_pending)
		return;
	if (r->turn_fn && napi_get_reference_value(env, r->turn_fn, &fn) == napi_ok && fn &&
	    napi_get_global(env, &global) == napi_ok &&
	    napi_get_named_property(env, global, "setImmediate", &set_immediate) == napi_ok &&
	    napi_call_function(env, global, set_immediate, 1, &fn, &ignored) == napi_ok) {
		r->turn_pending = true;
		r->refs++;
		return;
	}
	napi_get_and_clear_last_exception(env, &ignored);
	pthread_mutex_lock(&r->mu);
	r->turn = 0;
	pthread_cond_signal(&r->room);
	pthread_mutex_unlock(&r->mu);
}

static void deliver(napi_env env, napi_value cb, void *context, void *data)
{
	struct vg_batch *b = data;
	struct vg_ring *r = context;
	napi_value buffer, undefined, exception;
	uint64_t records = b->records, len = b->len;
	napi_status status;
	int64_t ignored;
	bool aborting;

	if (!env) {
		/* The function is being torn down; `r` may be gone already. */
		free(b);
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->queued--;
	r->turn++;
	aborting = r->abort;
	pthread_mutex_unlock(&r->mu);
	schedule_end_turn(env, r);
	if (aborting || !cb) {
		free(b);
		return;
	}
	status = napi_create_external_buffer(env, len, b->data, batch_free, b, &buffer);
	if (status == napi_ok) {
		napi_adjust_external_memory(env, (int64_t)b->cap, &ignored);
	} else {
		/* Runtimes that forbid external buffers get a copy. */
		status = napi_create_buffer_copy(env, len, b->data, NULL, &buffer);
		free(b);
		if (status != napi_ok)
			return;
	}
	r->records += records;
	r->batches++;
	r->bytes += len;
	napi_get_undefined(env, &undefined);
	status = napi_call_function(env, undefined, cb, 1, &buffer, NULL);
	/* A throwing handler must not stop the drain: report it as Node reports uncaught errors
	 * (Node itself would only print a deprecation warning for an addon of this N-API version). */
	if (status == napi_pending_exception &&
	    napi_get_and_clear_last_exception(env, &exception) == napi_ok)
		napi_fatal_exception(env, exception);
}

static napi_value stats_object(napi_env env, struct vg_ring *r)
{
	napi_value stats;

	if (napi_create_object(env, &stats) != napi_ok ||
	    !vg_set_number(env, stats, "records", (double)r->records) ||
	    !vg_set_number(env, stats, "batches", (double)r->batches) ||
	    !vg_set_number(env, stats, "bytes", (double)r->bytes) ||
	    !vg_set_number(env, stats, "oversized",
			   (double)__atomic_load_n(&r->oversized, __ATOMIC_RELAXED)))
		return NULL;
	return stats;
}

static void unlink_owner(struct vg_ring *r)
{
	struct vg_ring **p;

	if (!r->owner)
		return;
	for (p = &r->owner->rings; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	r->owner = NULL;
	r->next = NULL;
	ring_unref(r);
}

/* Stops the thread now, dropping what it holds; returns once it has exited. */
static void ring_abort(struct vg_ring *r)
{
	if (!r->started || r->joined)
		return;
	pthread_mutex_lock(&r->mu);
	__atomic_store_n(&r->abort, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&r->room);
	pthread_mutex_unlock(&r->mu);
	wake(r);
	pthread_join(r->thread, NULL);
	r->joined = true;
}

static void env_cleanup(void *arg)
{
	struct vg_ring *r = arg;

	r->hooked = false;
	ring_abort(r);
}

void vg_ring_abort_all(struct vg_object *o)
{
	while (o->rings) {
		struct vg_ring *r = o->rings;

		o->rings = r->next;
		r->next = NULL;
		r->owner = NULL;
		ring_abort(r);
		ring_unref(r);
	}
}

/* Node calls this once the thread has released the function and the queue is empty (or, on
 * abort, before it frees the queued batches). */
static void finished(napi_env env, void *data, void *hint)
{
	struct vg_ring *r = data;
	napi_value stats;

	(void)hint;
	if (r->started && !r->joined) {
		pthread_join(r->thread, NULL); /* it has released the function: it is returning */
		r->joined = true;
	}
	r->finished = true;
	ring_buffer__free(r->rb); /* unmaps the ring now rather than when the Ring is collected */
	r->rb = NULL;
	if (r->hooked) {
		napi_remove_env_cleanup_hook(env, env_cleanup, r);
		r->hooked = false;
	}
	unlink_owner(r);
	if (r->object_ref) {
		napi_delete_reference(env, r->object_ref);
		r->object_ref = NULL;
	}
	if (r->turn_fn) {
		napi_delete_reference(env, r->turn_fn);
		r->turn_fn = NULL;
	}
	if (r->deferred) {
		stats = stats_object(env, r);
		if (stats)
			napi_resolve_deferred(env, r->deferred, stats);
		r->deferred = NULL;
		napi_delete_reference(env, r->promise_ref);
		r->promise_ref = NULL;
	}
	ring_unref(r);
}

static struct vg_ring *ring_this(napi_env env, napi_value self, const char *method)
{
	bool tagged = false;
	void *r = NULL;

	if (napi_check_object_type_tag(env, self, &vg_ring_tag, &tagged) != napi_ok || !tagged ||
	    napi_unwrap(env, self, &r) != napi_ok || !r) {
		vg_throw_type(env, "%s: `this` is not a Ring", method);
		return NULL;
	}
	return r;
}

static napi_value ring_stop(napi_env env, napi_callback_info info)
{
	napi_value self, promise, stats;
	napi_deferred deferred;
	struct vg_ring *r;

	if (!vg_args(env, info, 0, NULL, &self) || !(r = ring_this(env, self, "stop")))
		return NULL;
	if (r->finished) {
		VG_NAPI(env, napi_create_promise(env, &deferred, &promise));
		if (!(stats = stats_object(env, r)))
			return NULL;
		VG_NAPI(env, napi_resolve_deferred(env, deferred, stats));
		return promise;
	}
	if (r->promise_ref) {
		VG_NAPI(env, napi_get_reference_value(env, r->promise_ref, &promise));
		return promise;
	}
	VG_NAPI(env, napi_create_promise(env, &deferred, &promise));
	if (napi_create_reference(env, promise, 1, &r->promise_ref) != napi_ok) {
		napi_reject_deferred(env, deferred, promise); /* unreachable in practice */
		vg_throw_napi(env, "napi_create_reference");
		return NULL;
	}
	r->deferred = deferred;
	pthread_mutex_lock(&r->mu);
	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE); /* also read by a running consume */
	pthread_mutex_unlock(&r->mu);
	wake(r);
	return promise;
}

static napi_value ring_stats(napi_env env, napi_callback_info info)
{
	napi_value self;
	struct vg_ring *r;

	if (!vg_args(env, info, 0, NULL, &self) || !(r = ring_this(env, self, "stats")))
		return NULL;
	return stats_object(env, r);
}

static void ring_wrapper_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	ring_unref(data);
}

static napi_value construct(napi_env env, napi_callback_info info)
{
	struct vg_ring *r = constructing;
	napi_value self;

	constructing = NULL;
	if (!vg_args(env, info, 0, NULL, &self))
		return NULL;
	if (!r) {
		vg_throw_type(env, "Ring: use BpfObject.openRing()");
		return NULL;
	}
	VG_NAPI(env, napi_wrap(env, self, r, ring_wrapper_finalize, NULL, NULL));
	r->refs++;
	VG_NAPI(env, napi_type_tag_object(env, self, &vg_ring_tag));
	return self;
}

napi_status vg_ring_define(napi_env env, napi_value *ctor)
{
	napi_property_descriptor methods[] = {
		{"stop", NULL, ring_stop, NULL, NULL, NULL, napi_default_method, NULL},
		{"stats", NULL, ring_stats, NULL, NULL, NULL, napi_default_method, NULL},
	};

	return napi_define_class(env, "Ring", NAPI_AUTO_LENGTH, construct, NULL,
				 sizeof(methods) / sizeof(methods[0]), methods, ctor);
}

static bool ring_options(napi_env env, napi_value options, struct vg_ring *r)
{
	napi_valuetype t;
	napi_value v;
	int64_t n;

	if (napi_typeof(env, options, &t) != napi_ok || t != napi_object) {
		vg_throw_type(env, "openRing: options must be an object {batchBytes, flushMs}");
		return false;
	}
	if (napi_get_named_property(env, options, "batchBytes", &v) != napi_ok ||
	    !vg_int(env, v, "options.batchBytes", MIN_BATCH_BYTES, MAX_BATCH_BYTES, &n))
		return false;
	r->batch_bytes = (size_t)n;
	if (napi_get_named_property(env, options, "flushMs", &v) != napi_ok ||
	    !vg_int(env, v, "options.flushMs", 1, MAX_FLUSH_MS, &n))
		return false;
	r->flush_ms = (int)n;
	return true;
}

/* The ring, its epoll set and the Ring object; on failure r is left for the caller to free. */
static bool ring_setup(napi_env env, struct vg_ring *r, struct bpf_map *map)
{
	struct epoll_event ev = {.events = EPOLLIN};

	r->rb = ring_buffer__new(bpf_map__fd(map), vg_drain_record, r, NULL);
	if (!r->rb) {
		vg_throw_errno(env, errno, "openRing %s", r->map);
		return false;
	}
	r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->evfd < 0) {
		vg_throw_errno(env, errno, "openRing %s: eventfd", r->map);
		return false;
	}
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0) {
		vg_throw_errno(env, errno, "openRing %s: epoll_create1", r->map);
		return false;
	}
	ev.data.u32 = 0;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(r->rb), &ev) != 0) {
		vg_throw_errno(env, errno, "openRing %s: epoll_ctl", r->map);
		return false;
	}
	ev.data.u32 = WAKE_ID;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->evfd, &ev) != 0) {
		vg_throw_errno(env, errno, "openRing %s: epoll_ctl", r->map);
		return false;
	}
	return true;
}

static int start_thread(struct vg_ring *r)
{
	sigset_t all, old;
	int err;

	/* Signals are the JavaScript thread's business: the drain thread starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&r->thread, NULL, vg_drain, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err == 0)
		pthread_setname_np(r->thread, "vigil-ring");
	return err;
}

napi_value vg_open_ring(napi_env env, napi_callback_info info)
{
	napi_value argv[3], self, ctor, ring_obj, name, turn_fn;
	struct vg_object *o;
	struct bpf_map *map;
	struct vg_ring *r;
	napi_valuetype t;
	int err;

	if (!vg_args(env, info, 3, argv, &self) || !(o = vg_object_this(env, self, "openRing")))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		vg_throw_errno(env, ENOMEM, "openRing");
		return NULL;
	}
	r->epfd = r->evfd = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->room, NULL);
	r->refs = 1; /* this function's, until the Ring object holds one */
	if (!vg_string(env, argv[0], "map", r->map, sizeof(r->map)))
		goto fail;
	if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
		vg_throw_type(env, "openRing: onBatch must be a function");
		goto fail;
	}
	if (!ring_options(env, argv[2], r) || !vg_object_require(env, o, VG_LOADED, "openRing") ||
	    !(map = vg_object_map(env, o, "openRing", r->map)))
		goto fail;
	if (bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF) {
		vg_throw_errno(env, EINVAL, "openRing %s: not a ring buffer map (type %d)", r->map,
			       bpf_map__type(map));
		goto fail;
	}
	r->ring_bytes = bpf_map__max_entries(map);
	if (!ring_setup(env, r, map))
		goto fail;

	/* The Ring object (it takes a reference), then the function the thread calls. */
	if (napi_get_reference_value(env, vg_addon(env)->ring_ctor, &ctor) != napi_ok) {
		vg_throw_napi(env, "napi_get_reference_value");
		goto fail;
	}
	constructing = r;
	if (napi_new_instance(env, ctor, 0, NULL, &ring_obj) != napi_ok) {
		constructing = NULL;
		goto fail;
	}
	if (napi_create_string_utf8(env, "vigil-ring", NAPI_AUTO_LENGTH, &name) != napi_ok ||
	    napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, r, finished, r, deliver,
					    &r->tsfn) != napi_ok) {
		vg_throw_napi(env, "napi_create_threadsafe_function");
		goto fail;
	}
	r->refs++; /* the function's, dropped in finished() */
	if (napi_create_function(env, "vigilRingTurn", NAPI_AUTO_LENGTH, end_turn, r, &turn_fn) !=
		    napi_ok ||
	    napi_create_reference(env, turn_fn, 1, &r->turn_fn) != napi_ok)
		r->turn_fn = NULL; /* schedule_end_turn copes */
	err = start_thread(r);
	if (err) {
		/* Release on the thread's behalf; finished() still runs and tidies up. */
		napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
		vg_throw_errno(env, err, "openRing %s: pthread_create", r->map);
		goto fail;
	}
	r->started = true;
	/* Cannot fail in practice; if they did, the ring would merely be less well tied. */
	napi_create_reference(env, self, 1, &r->object_ref);
	if (napi_add_env_cleanup_hook(env, env_cleanup, r) == napi_ok)
		r->hooked = true;
	r->owner = o;
	r->next = o->rings;
	o->rings = r;
	/* This function's reference becomes the owner's. */
	return ring_obj;

fail:
	ring_unref(r);
	return NULL;
}
