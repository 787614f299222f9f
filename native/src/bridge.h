/*
 * Vigil kernel bridge: the declarations the source files share.
 *
 * The bridge does what JavaScript cannot (libbpf objects, maps, the ring-buffer drain thread,
 * a few syscalls) and nothing else: every decision about what to load, attach or keep lives in
 * TypeScript (src/sensor/kernel).
 */
#ifndef VIGIL_BRIDGE_H
#define VIGIL_BRIDGE_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

/* ---- errors.c: throwing, and reading arguments (each helper throws and returns false) ---- */

/* Error with .errno and .code ("EPERM"); message "<what>: <strerror>". */
void vg_throw_errno(napi_env env, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with `detail` (e.g. the libbpf log tail) appended on the lines after the message. */
void vg_throw_errno_detail(napi_env env, int err, const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* TypeError with code ERR_INVALID_ARG_TYPE. */
void vg_throw_type(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Throws for a failed napi_* call unless an exception is already pending. */
void vg_throw_napi(napi_env env, const char *call);

#define VG_NAPI(env, call)                   \
	do {                                 \
		if ((call) != napi_ok) {     \
			vg_throw_napi(env, #call); \
			return NULL;         \
		}                            \
	} while (0)

/* The `this` value and up to `n` arguments (missing ones are undefined). */
bool vg_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, napi_value *self);
/* A string into buf (NUL-terminated); throws if not a string or longer than size - 1. */
bool vg_string(napi_env env, napi_value v, const char *what, char *buf, size_t size);
/* A Buffer (or any ArrayBufferView): its bytes, not copied. */
bool vg_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len);
/* An integer number in [min, max]. */
bool vg_int(napi_env env, napi_value v, const char *what, int64_t min, int64_t max, int64_t *out);
bool vg_bool(napi_env env, napi_value v, const char *what, bool *out);
bool vg_is_nullish(napi_env env, napi_value v);

/* Object properties for results. */
bool vg_set_number(napi_env env, napi_value obj, const char *key, double value);
bool vg_set_string(napi_env env, napi_value obj, const char *key, const char *value);
bool vg_set_bool(napi_env env, napi_value obj, const char *key, bool value);

/* ---- log.c: libbpf's messages, kept in a bounded buffer for drainLog() ---- */

void vg_log_install(void);
/* A position in the log: lines appended after it are "since" the mark. */
uint64_t vg_log_mark(void);
/* The last lines (at most max_lines, max_bytes) appended since `mark`, joined by '\n';
 * malloc'd, NULL when there are none. Does not clear the log. */
char *vg_log_tail(uint64_t mark, size_t max_lines, size_t max_bytes);
napi_value vg_drain_log(napi_env env, napi_callback_info info);

/* ---- object.c: BpfObject ---- */

enum vg_object_state { VG_OPENED, VG_LOADED, VG_LOAD_FAILED, VG_CLOSED };

struct vg_ring;

struct vg_object {
	struct bpf_object *obj;
	enum vg_object_state state;
	char name[64]; /* bpf_object__name, kept for messages after close */
	struct bpf_link **links; /* handle h is links[h - 1]; NULL once detached */
	size_t nlinks, cap_links;
	struct vg_ring *rings; /* rings opened on this object's maps, still referenced */
};

napi_status vg_object_define(napi_env env, napi_value *ctor);
napi_value vg_open_object(napi_env env, napi_callback_info info);
/* Unwraps `this` as a BpfObject; throws if it is not one or it is closed. */
struct vg_object *vg_object_this(napi_env env, napi_value self, const char *method);
struct bpf_map *vg_object_map(napi_env env, struct vg_object *o, const char *method,
			      const char *name);
/* The program `name` of `o`; throws ENOENT naming `method` when there is none. */
struct bpf_program *vg_object_program(napi_env env, struct vg_object *o, const char *method,
				      const char *name);
bool vg_object_require(napi_env env, struct vg_object *o, enum vg_object_state want,
		       const char *what);

/* ---- maps.c ---- */

bool vg_map_is_percpu(enum bpf_map_type type);
napi_value vg_map_lookup(napi_env env, napi_callback_info info);
napi_value vg_map_update(napi_env env, napi_callback_info info);
napi_value vg_map_set_program(napi_env env, napi_callback_info info);
napi_value vg_map_set_inner(napi_env env, napi_callback_info info);
napi_value vg_map_delete(napi_env env, napi_callback_info info);
napi_value vg_map_next_key(napi_env env, napi_callback_info info);
napi_value vg_maps(napi_env env, napi_callback_info info);

/* ---- ring.c: the drain thread ---- */

napi_status vg_ring_define(napi_env env, napi_value *ctor);
napi_value vg_open_ring(napi_env env, napi_callback_info info);
/* Called by the owning object when it closes: stops the thread at once, drops what is queued. */
void vg_ring_abort_all(struct vg_object *o);

/* ---- sys.c: the few syscalls and libbpf facts Node lacks ---- */

napi_value vg_clocks(napi_env env, napi_callback_info info);
napi_value vg_num_possible_cpus(napi_env env, napi_callback_info info);
napi_value vg_mount(napi_env env, napi_callback_info info);
napi_value vg_probe_fanotify(napi_env env, napi_callback_info info);
napi_value vg_probe_prog_type(napi_env env, napi_callback_info info);
napi_value vg_libbpf_version(napi_env env, napi_callback_info info);

/* ---- fanotify.c: the permission-event thread ---- */

napi_value vg_open_fanotify(napi_env env, napi_callback_info info);

/* ---- addon.c: per-environment data ---- */

struct vg_addon {
	napi_ref object_ctor;
	napi_ref ring_ctor;
};

struct vg_addon *vg_addon(napi_env env);

/* Type tags, so that a method called on the wrong kind of object throws instead of misreading. */
extern const napi_type_tag vg_object_tag;
extern const napi_type_tag vg_ring_tag;

#endif
