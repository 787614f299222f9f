/*
 * FanotifyGuard: a fanotify group of the sensor's own, whose permission events (the open, and
 * the exec, of the files deny rules name) are answered by a native thread from rules compiled in
 * TypeScript (src/sensor/enforce/fanotify.ts), and by a watchdog that answers ALLOW to any event
 * not decided within a deadline.
 *
 * Why native and a thread of its own: a process opening a marked file sleeps in the kernel until
 * the group answers. Answering from JavaScript would make every such open wait on the event loop
 * (a collection, a burst of events, a policy reload), and a stopped event loop would hang every
 * opener; the thread only reads /proc and its table, and the watchdog bounds even that.
 *
 * Only the inodes rules name are marked (TypeScript calls mark()): a mark on a mount or a
 * filesystem would put every open there through this thread (about 70 us each on a VM).
 *
 * The table: per hook (exec, open) up to 64 atoms and 64 slots, as in the kernel's tables
 * (bpf/records/enforce.h): a slot denies when every atom it requires holds and none it forbids
 * does. The serialised form, little endian, is written by fanotify.ts:
 *   u32 version (1); then for each hook: u32 natoms, atoms; u32 nslots, slots
 *   atom: u32 kind, u32 nstrings, u32 nids, u32 nints; strings (u32 len, bytes); ids (u32 dev,
 *         u32 pad, u64 ino); ints (u32)
 *   slot: u64 require, u64 forbid
 */
#include "bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define HOOKS 2 /* 0: exec, 1: open (fanotify.ts HOOK_INDEX) */
#define MAX_ATOMS 64
#define MAX_SLOTS 64
#define MAX_PENDING 256
#define MAX_DENIALS 256
#define REPORT_PATH 1024

enum atom_kind {
	A_FILE_PATH = 1, /* the file's path: exact (strings) or identity (ids) */
	A_FILE_PREFIX = 2,
	A_FILE_SUFFIX = 3,
	A_EXE_PATH = 4, /* the executable: the program exec'd, or the opener's */
	A_EXE_PREFIX = 5,
	A_EXE_SUFFIX = 6,
	A_COMM = 7,
	A_COMM_PREFIX = 8,
	A_COMM_SUFFIX = 9,
	A_UID = 10,
	A_EUID = 11,
	A_GID = 12,
};

struct ident {
	uint32_t dev; /* kernel encoding: major << 20 | minor */
	uint64_t ino;
};

struct atom {
	uint32_t kind;
	uint32_t nstrings, nids, nints;
	char **strings;
	uint32_t *lens;
	struct ident *ids;
	uint32_t *ints;
};

struct slot {
	uint64_t require, forbid;
};

struct table {
	atomic_int refs;
	uint32_t natoms[HOOKS], nslots[HOOKS];
	struct atom atoms[HOOKS][MAX_ATOMS];
	struct slot slots[HOOKS][MAX_SLOTS];
};

struct pending {
	int fd;
	bool used, answered;
	uint64_t deadline_ns;
};

struct denial {
	int32_t pid;
	uint32_t hook;
	int32_t slot; /* -1: answered ALLOW by the watchdog */
	uint32_t dev;
	uint64_t ino;
	char path[REPORT_PATH];
};

struct guard {
	int fan, stop_fd;
	pthread_t reader, watchdog;
	bool running;
	pthread_mutex_t mu; /* pending, denials, table pointer */
	struct pending pending[MAX_PENDING];
	struct table *table;
	struct denial denials[MAX_DENIALS];
	uint32_t ndenials;
	uint64_t deadline_ns;
	atomic_uint delay_ms;
	atomic_uint_fast64_t events, allowed, denied, timeouts, errors, dropped;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void table_free(struct table *t)
{
	int h;
	uint32_t i, j;

	if (!t)
		return;
	for (h = 0; h < HOOKS; h++) {
		for (i = 0; i < t->natoms[h]; i++) {
			struct atom *a = &t->atoms[h][i];

			for (j = 0; j < a->nstrings; j++)
				free(a->strings[j]);
			free(a->strings);
			free(a->lens);
			free(a->ids);
			free(a->ints);
		}
	}
	free(t);
}

static void table_unref(struct table *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1)
		table_free(t);
}

/* ---- parsing the table ---- */

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint32_t rd32(struct reader *r)
{
	uint32_t v;

	if (r->end - r->p < 4) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}

static uint64_t rd64(struct reader *r)
{
	uint64_t v;

	if (r->end - r->p < 8) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, 8);
	r->p += 8;
	return v;
}

/* The table in @data, or NULL with *why set. */
static struct table *table_parse(const uint8_t *data, size_t len, const char **why)
{
	struct reader r = {data, data + len, false};
	struct table *t = calloc(1, sizeof(*t));
	int h;
	uint32_t i, j;

	if (!t) {
		*why = "out of memory";
		return NULL;
	}
	atomic_init(&t->refs, 1);
	if (rd32(&r) != 1) {
		*why = "not version 1";
		goto bad;
	}
	for (h = 0; h < HOOKS; h++) {
		t->natoms[h] = rd32(&r);
		if (r.bad || t->natoms[h] > MAX_ATOMS) {
			*why = "more than 64 atoms in a hook";
			goto bad;
		}
		for (i = 0; i < t->natoms[h]; i++) {
			struct atom *a = &t->atoms[h][i];

			a->kind = rd32(&r);
			a->nstrings = rd32(&r);
			a->nids = rd32(&r);
			a->nints = rd32(&r);
			if (r.bad || a->nstrings > 65536 || a->nids > 65536 || a->nints > 65536) {
				*why = "an atom's lists are cut or too long";
				goto bad;
			}
			a->strings = calloc(a->nstrings + 1, sizeof(char *));
			a->lens = calloc(a->nstrings + 1, sizeof(uint32_t));
			a->ids = calloc(a->nids + 1, sizeof(struct ident));
			a->ints = calloc(a->nints + 1, sizeof(uint32_t));
			if (!a->strings || !a->lens || !a->ids || !a->ints) {
				*why = "out of memory";
				goto bad;
			}
			for (j = 0; j < a->nstrings; j++) {
				uint32_t n = rd32(&r);

				if (r.bad || n > PATH_MAX || (size_t)(r.end - r.p) < n) {
					*why = "a string is cut";
					goto bad;
				}
				a->strings[j] = malloc(n + 1);
				if (!a->strings[j]) {
					*why = "out of memory";
					goto bad;
				}
				memcpy(a->strings[j], r.p, n);
				a->strings[j][n] = '\0';
				a->lens[j] = n;
				r.p += n;
			}
			for (j = 0; j < a->nids; j++) {
				a->ids[j].dev = rd32(&r);
				rd32(&r);
				a->ids[j].ino = rd64(&r);
			}
			for (j = 0; j < a->nints; j++)
				a->ints[j] = rd32(&r);
			if (r.bad) {
				*why = "an atom is cut";
				goto bad;
			}
		}
		t->nslots[h] = rd32(&r);
		if (r.bad || t->nslots[h] > MAX_SLOTS) {
			*why = "more than 64 slots in a hook";
			goto bad;
		}
		for (i = 0; i < t->nslots[h]; i++) {
			t->slots[h][i].require = rd64(&r);
			t->slots[h][i].forbid = rd64(&r);
		}
		if (r.bad) {
			*why = "a slot is cut";
			goto bad;
		}
	}
	if (r.p != r.end) {
		*why = "bytes after the last hook";
		goto bad;
	}
	return t;
bad:
	table_free(t);
	return NULL;
}

/* ---- deciding ---- */

/* What is known of an event's subject; each part read from /proc when an atom first needs it. */
struct subject {
	int hook;
	int fd;
	pid_t pid;
	bool has_file, has_exe, has_exe_id, has_comm, has_ids;
	char file[PATH_MAX];
	struct ident file_id;
	char exe[PATH_MAX];
	struct ident exe_id;
	char comm[32];
	uint32_t uid, euid, gid;
};

static uint32_t kernel_dev(dev_t d)
{
	return (major(d) << 20) | minor(d);
}

static bool read_link(const char *link, char *out, size_t size)
{
	ssize_t n = readlink(link, out, size - 1);

	if (n < 0)
		return false;
	out[n] = '\0';
	return true;
}

static const char *subject_file(struct subject *s)
{
	char link[64];

	if (!s->has_file) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", s->fd);
		if (!read_link(link, s->file, sizeof(s->file)))
			s->file[0] = '\0';
		s->has_file = true;
	}
	return s->file;
}

/* The executable: for exec, the program about to run (the event's file); else the opener's. */
static const char *subject_exe(struct subject *s)
{
	char link[64];

	if (s->hook == 0)
		return subject_file(s);
	if (!s->has_exe) {
		snprintf(link, sizeof(link), "/proc/%d/exe", s->pid);
		if (!read_link(link, s->exe, sizeof(s->exe)))
			s->exe[0] = '\0';
		s->has_exe = true;
	}
	return s->exe;
}

static struct ident subject_exe_id(struct subject *s)
{
	char link[64];
	struct stat st;

	if (s->hook == 0)
		return s->file_id;
	if (!s->has_exe_id) {
		snprintf(link, sizeof(link), "/proc/%d/exe", s->pid);
		if (stat(link, &st) == 0) {
			s->exe_id.dev = kernel_dev(st.st_dev);
			s->exe_id.ino = st.st_ino;
		}
		s->has_exe_id = true;
	}
	return s->exe_id;
}

/* The comm: for exec, as exec will set it (the program's name); else the opener's. */
static const char *subject_comm(struct subject *s)
{
	char path[64];
	FILE *f;

	if (s->has_comm)
		return s->comm;
	s->has_comm = true;
	s->comm[0] = '\0';
	if (s->hook == 0) {
		const char *file = subject_file(s);
		const char *base = strrchr(file, '/');

		snprintf(s->comm, 16, "%s", base ? base + 1 : file);
		return s->comm;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", s->pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(s->comm, sizeof(s->comm), f))
			s->comm[strcspn(s->comm, "\n")] = '\0';
		fclose(f);
	}
	return s->comm;
}

static void subject_ids(struct subject *s)
{
	char path[64], line[256];
	unsigned int real = 0, eff = 0, saved, fs;
	unsigned int greal = 0;
	FILE *f;

	if (s->has_ids)
		return;
	s->has_ids = true;
	s->uid = s->euid = s->gid = UINT32_MAX;
	snprintf(path, sizeof(path), "/proc/%d/status", s->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %u %u %u %u", &real, &eff, &saved, &fs) >= 2) {
			s->uid = real;
			s->euid = eff;
		} else if (sscanf(line, "Gid: %u", &greal) == 1) {
			s->gid = greal;
		}
	}
	fclose(f);
}

static bool string_is(const char *value, const struct atom *a, int how)
{
	size_t n = strlen(value);
	uint32_t i;

	for (i = 0; i < a->nstrings; i++) {
		size_t m = a->lens[i];

		if (how == 0 && n == m && memcmp(value, a->strings[i], m) == 0)
			return true;
		if (how == 1 && n >= m && memcmp(value, a->strings[i], m) == 0)
			return true;
		if (how == 2 && n >= m && memcmp(value + n - m, a->strings[i], m) == 0)
			return true;
	}
	return false;
}

static bool ident_in(struct ident id, const struct atom *a)
{
	uint32_t i;

	for (i = 0; i < a->nids; i++)
		if (a->ids[i].dev == id.dev && a->ids[i].ino == id.ino)
			return true;
	return false;
}

static bool int_in(uint32_t v, const struct atom *a)
{
	uint32_t i;

	for (i = 0; i < a->nints; i++)
		if (a->ints[i] == v)
			return true;
	return false;
}

static bool atom_holds(const struct atom *a, struct subject *s)
{
	switch (a->kind) {
	case A_FILE_PATH:
		return ident_in(s->file_id, a) || string_is(subject_file(s), a, 0);
	case A_FILE_PREFIX:
		return string_is(subject_file(s), a, 1);
	case A_FILE_SUFFIX:
		return string_is(subject_file(s), a, 2);
	case A_EXE_PATH:
		return ident_in(subject_exe_id(s), a) || string_is(subject_exe(s), a, 0);
	case A_EXE_PREFIX:
		return string_is(subject_exe(s), a, 1);
	case A_EXE_SUFFIX:
		return string_is(subject_exe(s), a, 2);
	case A_COMM:
		return string_is(subject_comm(s), a, 0);
	case A_COMM_PREFIX:
		return string_is(subject_comm(s), a, 1);
	case A_COMM_SUFFIX:
		return string_is(subject_comm(s), a, 2);
	case A_UID:
		subject_ids(s);
		return int_in(s->uid, a);
	case A_EUID:
		subject_ids(s);
		return int_in(s->euid, a);
	case A_GID:
		subject_ids(s);
		return int_in(s->gid, a);
	default:
		return false;
	}
}

/* The first slot of @hook that denies, or -1. Atoms are evaluated once, when a slot needs them. */
static int decide(const struct table *t, struct subject *s)
{
	uint64_t known = 0, holds = 0;
	int h = s->hook;
	uint32_t i, b;

	for (i = 0; i < t->nslots[h]; i++) {
		uint64_t need = t->slots[h][i].require | t->slots[h][i].forbid;

		for (b = 0; b < t->natoms[h]; b++) {
			uint64_t bit = 1ULL << b;

			if (!(need & bit) || (known & bit))
				continue;
			known |= bit;
			if (atom_holds(&t->atoms[h][b], s))
				holds |= bit;
		}
		if ((holds & t->slots[h][i].require) == t->slots[h][i].require && !(holds & t->slots[h][i].forbid))
			return (int)i;
	}
	return -1;
}

/* Whether the file is a program some exec rule names: its opener then must not be a loader. */
static bool exec_named(const struct table *t, struct ident id)
{
	uint32_t i;

	for (i = 0; i < t->natoms[0]; i++)
		if (t->atoms[0][i].kind == A_EXE_PATH && ident_in(id, &t->atoms[0][i]))
			return true;
	return false;
}

/*
 * The dynamic loader run as a program (`ld.so ./program`) maps the program itself, which no exec
 * mark sees: its open of a program an exec rule names is decided as an exec of that program.
 */
static bool opener_is_loader(struct subject *s)
{
	const char *exe = subject_exe(s);
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	return strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld.so", 5) == 0 || strncmp(base, "ld-musl", 7) == 0;
}

static void report(struct guard *g, struct subject *s, int slot)
{
	struct denial *d;

	pthread_mutex_lock(&g->mu);
	if (g->ndenials == MAX_DENIALS) {
		pthread_mutex_unlock(&g->mu);
		atomic_fetch_add(&g->dropped, 1);
		return;
	}
	d = &g->denials[g->ndenials++];
	d->pid = s->pid;
	d->hook = s->hook;
	d->slot = slot;
	d->dev = s->file_id.dev;
	d->ino = s->file_id.ino;
	snprintf(d->path, sizeof(d->path), "%s", subject_file(s));
	pthread_mutex_unlock(&g->mu);
}

/* Answers the event in pending slot @p unless the watchdog did; true when this call answered. */
static bool answer(struct guard *g, struct pending *p, uint32_t response)
{
	struct fanotify_response r = {.fd = p->fd, .response = response};
	bool mine;

	pthread_mutex_lock(&g->mu);
	mine = !p->answered;
	p->answered = true;
	pthread_mutex_unlock(&g->mu);
	if (mine && write(g->fan, &r, sizeof(r)) != sizeof(r))
		atomic_fetch_add(&g->errors, 1);
	return mine;
}

static void handle(struct guard *g, const struct fanotify_event_metadata *m)
{
	struct pending *p = NULL;
	struct subject *s;
	struct table *t;
	struct stat st;
	unsigned int delay;
	int slot = -1, i;

	atomic_fetch_add(&g->events, 1);
	pthread_mutex_lock(&g->mu);
	for (i = 0; i < MAX_PENDING; i++) {
		if (!g->pending[i].used) {
			p = &g->pending[i];
			p->used = true;
			p->answered = false;
			p->fd = m->fd;
			p->deadline_ns = now_ns() + g->deadline_ns;
			break;
		}
	}
	t = g->table;
	if (t)
		atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&g->mu);
	if (!p) {
		/* Cannot happen with one reader, which handles one event at a time. */
		struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};

		if (write(g->fan, &r, sizeof(r)) != sizeof(r))
			atomic_fetch_add(&g->errors, 1);
		close(m->fd);
		table_unref(t);
		return;
	}
	delay = atomic_load(&g->delay_ms);
	if (delay) {
		struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
	s = calloc(1, sizeof(*s));
	if (s && t && fstat(m->fd, &st) == 0) {
		s->fd = m->fd;
		s->pid = m->pid;
		s->file_id.dev = kernel_dev(st.st_dev);
		s->file_id.ino = st.st_ino;
		s->hook = (m->mask & FAN_OPEN_EXEC_PERM) ? 0 : 1;
		slot = decide(t, s);
		if (slot < 0 && s->hook == 1 && exec_named(t, s->file_id) && opener_is_loader(s)) {
			s->hook = 0;
			slot = decide(t, s);
		}
	} else {
		atomic_fetch_add(&g->errors, 1);
	}
	if (answer(g, p, slot >= 0 ? FAN_DENY : FAN_ALLOW)) {
		atomic_fetch_add(slot >= 0 ? &g->denied : &g->allowed, 1);
		if (slot >= 0)
			report(g, s, slot);
	}
	free(s);
	table_unref(t);
	close(m->fd);
	pthread_mutex_lock(&g->mu);
	p->used = false;
	pthread_mutex_unlock(&g->mu);
}

static void *read_events(void *arg)
{
	struct guard *g = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	struct pollfd fds[2] = {{.fd = g->fan, .events = POLLIN}, {.fd = g->stop_fd, .events = POLLIN}};

	for (;;) {
		const struct fanotify_event_metadata *m;
		ssize_t n;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		n = read(g->fan, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			break;
		}
		for (m = (void *)buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0) {
				if (m->fd >= 0)
					close(m->fd);
				continue;
			}
			if (m->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)) {
				handle(g, m);
			} else {
				close(m->fd);
			}
		}
	}
	return NULL;
}

/* Answers ALLOW to every event past its deadline: an opener never waits longer than that. */
static void *watch_deadlines(void *arg)
{
	struct guard *g = arg;
	struct pollfd stop = {.fd = g->stop_fd, .events = POLLIN};
	int tick = (int)(g->deadline_ns / 4000000ULL);
	int i;

	if (tick < 1)
		tick = 1;
	for (;;) {
		uint64_t now;

		if (poll(&stop, 1, tick) > 0)
			break;
		now = now_ns();

		pthread_mutex_lock(&g->mu);
		for (i = 0; i < MAX_PENDING; i++) {
			struct pending *p = &g->pending[i];

			if (p->used && !p->answered && now >= p->deadline_ns) {
				struct fanotify_response r = {.fd = p->fd, .response = FAN_ALLOW};

				p->answered = true;
				if (write(g->fan, &r, sizeof(r)) != sizeof(r))
					atomic_fetch_add(&g->errors, 1);
				atomic_fetch_add(&g->timeouts, 1);
				if (g->ndenials < MAX_DENIALS) {
					struct denial *d = &g->denials[g->ndenials++];
					char link[64];
					struct stat st;

					memset(d, 0, sizeof(*d));
					d->slot = -1;
					snprintf(link, sizeof(link), "/proc/self/fd/%d", p->fd);
					if (!read_link(link, d->path, sizeof(d->path)))
						d->path[0] = '\0';
					if (fstat(p->fd, &st) == 0) {
						d->dev = kernel_dev(st.st_dev);
						d->ino = st.st_ino;
					}
				} else {
					atomic_fetch_add(&g->dropped, 1);
				}
			}
		}
		pthread_mutex_unlock(&g->mu);
	}
	return NULL;
}

/* ---- JavaScript ---- */

static void guard_stop(struct guard *g)
{
	uint64_t one = 1;

	if (!g->running)
		return;
	g->running = false;
	if (write(g->stop_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot be full: this is its only write. */
	}
	pthread_join(g->reader, NULL);
	pthread_join(g->watchdog, NULL);
	/* Closing the group answers ALLOW to whatever is still queued in the kernel. */
	close(g->fan);
	close(g->stop_fd);
	g->fan = g->stop_fd = -1;
	pthread_mutex_lock(&g->mu);
	table_unref(g->table);
	g->table = NULL;
	pthread_mutex_unlock(&g->mu);
}

static void guard_finalize(napi_env env, void *data, void *hint)
{
	struct guard *g = data;

	(void)env;
	(void)hint;
	guard_stop(g);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static struct guard *guard_this(napi_env env, napi_callback_info info, size_t n, napi_value *argv,
				const char *method)
{
	struct guard *g = NULL;
	napi_value self;

	if (!vg_args(env, info, n, argv, &self))
		return NULL;
	if (napi_unwrap(env, self, (void **)&g) != napi_ok || !g) {
		vg_throw_type(env, "%s: `this` is not a FanotifyGuard", method);
		return NULL;
	}
	if (!g->running) {
		vg_throw_errno(env, EBADF, "%s: the fanotify guard is closed", method);
		return NULL;
	}
	return g;
}

static napi_value guard_set_rules(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct guard *g = guard_this(env, info, 1, argv, "setRules");
	struct table *t, *old;
	const char *why = NULL;
	void *data;
	size_t len;

	if (!g || !vg_bytes(env, argv[0], "rules", &data, &len))
		return NULL;
	t = table_parse(data, len, &why);
	if (!t) {
		vg_throw_errno(env, EINVAL, "setRules: the table is malformed: %s", why);
		return NULL;
	}
	pthread_mutex_lock(&g->mu);
	old = g->table;
	g->table = t;
	pthread_mutex_unlock(&g->mu);
	table_unref(old);
	return NULL;
}

static napi_value guard_mark(napi_env env, napi_callback_info info, unsigned int how, const char *method)
{
	napi_value argv[2];
	struct guard *g = guard_this(env, info, 2, argv, method);
	char path[PATH_MAX];
	int64_t mask;

	if (!g || !vg_string(env, argv[0], "path", path, sizeof(path)) ||
	    !vg_int(env, argv[1], "mask", 0, UINT32_MAX, &mask))
		return NULL;
	if (fanotify_mark(g->fan, how, (uint64_t)mask, AT_FDCWD, path) != 0)
		vg_throw_errno(env, errno, "%s %s", method, path);
	return NULL;
}

static napi_value guard_add_mark(napi_env env, napi_callback_info info)
{
	return guard_mark(env, info, FAN_MARK_ADD, "mark");
}

static napi_value guard_remove_mark(napi_env env, napi_callback_info info)
{
	return guard_mark(env, info, FAN_MARK_REMOVE, "unmark");
}

static napi_value guard_take(napi_env env, napi_callback_info info)
{
	struct guard *g = guard_this(env, info, 0, NULL, "takeDenials");
	struct denial *copy;
	napi_value list, item, v;
	uint32_t n, i;

	if (!g)
		return NULL;
	pthread_mutex_lock(&g->mu);
	n = g->ndenials;
	copy = n ? malloc(n * sizeof(*copy)) : NULL;
	if (copy)
		memcpy(copy, g->denials, n * sizeof(*copy));
	if (copy || !n)
		g->ndenials = 0;
	pthread_mutex_unlock(&g->mu);
	if (n && !copy) {
		vg_throw_errno(env, ENOMEM, "takeDenials");
		return NULL;
	}
	VG_NAPI(env, napi_create_array_with_length(env, n, &list));
	for (i = 0; i < n; i++) {
		struct denial *d = &copy[i];

		if (napi_create_object(env, &item) != napi_ok || !vg_set_number(env, item, "pid", d->pid) ||
		    !vg_set_string(env, item, "hook", d->hook == 0 ? "exec" : "open") ||
		    !vg_set_number(env, item, "slot", d->slot) || !vg_set_number(env, item, "dev", d->dev) ||
		    napi_create_bigint_uint64(env, d->ino, &v) != napi_ok ||
		    napi_set_named_property(env, item, "ino", v) != napi_ok ||
		    !vg_set_string(env, item, "path", d->path) || napi_set_element(env, list, i, item) != napi_ok) {
			free(copy);
			vg_throw_napi(env, "takeDenials");
			return NULL;
		}
	}
	free(copy);
	return list;
}

static napi_value guard_stats(napi_env env, napi_callback_info info)
{
	struct guard *g = guard_this(env, info, 0, NULL, "stats");
	napi_value result;

	if (!g)
		return NULL;
	VG_NAPI(env, napi_create_object(env, &result));
	if (!vg_set_number(env, result, "events", (double)atomic_load(&g->events)) ||
	    !vg_set_number(env, result, "allowed", (double)atomic_load(&g->allowed)) ||
	    !vg_set_number(env, result, "denied", (double)atomic_load(&g->denied)) ||
	    !vg_set_number(env, result, "timeouts", (double)atomic_load(&g->timeouts)) ||
	    !vg_set_number(env, result, "errors", (double)atomic_load(&g->errors)) ||
	    !vg_set_number(env, result, "dropped", (double)atomic_load(&g->dropped)))
		return NULL;
	return result;
}

static napi_value guard_delay(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct guard *g = guard_this(env, info, 1, argv, "delayDecisions");
	int64_t ms;

	if (!g || !vg_int(env, argv[0], "ms", 0, 60000, &ms))
		return NULL;
	atomic_store(&g->delay_ms, (unsigned int)ms);
	return NULL;
}

static napi_value guard_close(napi_env env, napi_callback_info info)
{
	struct guard *g = NULL;
	napi_value self;

	if (!vg_args(env, info, 0, NULL, &self))
		return NULL;
	if (napi_unwrap(env, self, (void **)&g) == napi_ok && g)
		guard_stop(g);
	return NULL;
}

/* openFanotify(deadlineMs): a guard with no marks and an empty table. */
napi_value vg_open_fanotify(napi_env env, napi_callback_info info)
{
	napi_property_descriptor methods[] = {
		{"setRules", NULL, guard_set_rules, NULL, NULL, NULL, napi_default_method, NULL},
		{"mark", NULL, guard_add_mark, NULL, NULL, NULL, napi_default_method, NULL},
		{"unmark", NULL, guard_remove_mark, NULL, NULL, NULL, napi_default_method, NULL},
		{"takeDenials", NULL, guard_take, NULL, NULL, NULL, napi_default_method, NULL},
		{"stats", NULL, guard_stats, NULL, NULL, NULL, napi_default_method, NULL},
		{"delayDecisions", NULL, guard_delay, NULL, NULL, NULL, napi_default_method, NULL},
		{"close", NULL, guard_close, NULL, NULL, NULL, napi_default_method, NULL},
	};
	napi_value argv[1], obj;
	sigset_t all, old;
	struct guard *g;
	int64_t deadline_ms;
	int err;

	if (!vg_args(env, info, 1, argv, NULL) || !vg_int(env, argv[0], "deadlineMs", 1, 60000, &deadline_ms))
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g) {
		vg_throw_errno(env, ENOMEM, "openFanotify");
		return NULL;
	}
	g->deadline_ns = (uint64_t)deadline_ms * 1000000ULL;
	pthread_mutex_init(&g->mu, NULL);
	g->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (g->fan < 0) {
		err = errno;
		pthread_mutex_destroy(&g->mu);
		free(g);
		vg_throw_errno(env, err, "fanotify_init");
		return NULL;
	}
	g->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (g->stop_fd < 0) {
		err = errno;
		close(g->fan);
		pthread_mutex_destroy(&g->mu);
		free(g);
		vg_throw_errno(env, err, "eventfd");
		return NULL;
	}
	/* The threads take no signals: they stay Node's main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&g->reader, NULL, read_events, g);
	if (!err) {
		err = pthread_create(&g->watchdog, NULL, watch_deadlines, g);
		if (err) {
			uint64_t one = 1;

			if (write(g->stop_fd, &one, sizeof(one)) < 0) {
				/* see guard_stop */
			}
			pthread_join(g->reader, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(g->fan);
		close(g->stop_fd);
		pthread_mutex_destroy(&g->mu);
		free(g);
		vg_throw_errno(env, err, "pthread_create");
		return NULL;
	}
	pthread_setname_np(g->reader, "vigil-fanotify");
	pthread_setname_np(g->watchdog, "vigil-fan-watch");
	g->running = true;
	if (napi_create_object(env, &obj) != napi_ok ||
	    napi_define_properties(env, obj, sizeof(methods) / sizeof(methods[0]), methods) != napi_ok ||
	    napi_wrap(env, obj, g, guard_finalize, NULL, NULL) != napi_ok) {
		guard_stop(g);
		pthread_mutex_destroy(&g->mu);
		free(g);
		vg_throw_napi(env, "openFanotify");
		return NULL;
	}
	return obj;
}
