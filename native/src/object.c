/*
 * BpfObject: one libbpf bpf_object from open to close, its programs, its links and its .rodata
 * globals. Maps are in maps.c, rings in ring.c.
 *
 * Life cycle: opened (globals, max entries, autoload may change) -> loaded (attach, maps, rings)
 * -> closed. A failed load leaves the object unusable (libbpf cannot load it twice), so it can
 * only be closed. close() is also run by the finalizer when JavaScript drops the object; a
 * running ring holds a reference to the object, so that happens only once its rings are done.
 */
#include "bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#define NAME_MAX_LEN 256
/* The lines of libbpf's log quoted in an error: the end of a verifier log says what failed. */
#define TAIL_LINES 40
#define TAIL_BYTES 8192

static void object_close(struct vg_object *o)
{
	size_t i;

	if (o->state == VG_CLOSED)
		return;
	vg_ring_abort_all(o);
	for (i = 0; i < o->nlinks; i++)
		bpf_link__destroy(o->links[i]); /* NULL for detached links: a no-op */
	free(o->links);
	o->links = NULL;
	o->nlinks = o->cap_links = 0;
	bpf_object__close(o->obj);
	o->obj = NULL;
	o->state = VG_CLOSED;
}

static void object_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	object_close(data);
	free(data);
}

struct vg_object *vg_object_this(napi_env env, napi_value self, const char *method)
{
	bool tagged = false;
	void *o = NULL;

	if (napi_check_object_type_tag(env, self, &vg_object_tag, &tagged) != napi_ok || !tagged ||
	    napi_unwrap(env, self, &o) != napi_ok || !o) {
		vg_throw_type(env, "%s: `this` is not a BpfObject", method);
		return NULL;
	}
	if (((struct vg_object *)o)->state == VG_CLOSED) {
		vg_throw_errno(env, EBADF, "%s: object %s is closed", method,
			       ((struct vg_object *)o)->name);
		return NULL;
	}
	return o;
}

bool vg_object_require(napi_env env, struct vg_object *o, enum vg_object_state want,
		       const char *what)
{
	if (o->state == want)
		return true;
	if (want == VG_OPENED)
		vg_throw_errno(env, EBUSY, "%s: object %s is already loaded", what, o->name);
	else if (o->state == VG_LOAD_FAILED)
		vg_throw_errno(env, EINVAL, "%s: object %s failed to load", what, o->name);
	else
		vg_throw_errno(env, EINVAL, "%s: object %s is not loaded", what, o->name);
	return false;
}

struct bpf_map *vg_object_map(napi_env env, struct vg_object *o, const char *method,
			      const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(o->obj, name);

	if (!map)
		vg_throw_errno(env, ENOENT, "%s: no map \"%s\" in object %s", method, name, o->name);
	return map;
}

struct bpf_program *vg_object_program(napi_env env, struct vg_object *o, const char *method,
				      const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(o->obj, name);

	if (!prog)
		vg_throw_errno(env, ENOENT, "%s: no program \"%s\" in object %s", method, name,
			       o->name);
	return prog;
}

/* Throws errno `err` for `what`, quoting what libbpf logged since `mark`. */
static void throw_logged(napi_env env, int err, uint64_t mark, const char *what)
{
	char *tail = vg_log_tail(mark, TAIL_LINES, TAIL_BYTES);

	vg_throw_errno_detail(env, err, tail, "%s", what);
	free(tail);
}

static napi_value construct(napi_env env, napi_callback_info info)
{
	char path[4096], what[4200];
	napi_value argv[1], self;
	struct vg_object *o;
	uint64_t mark;
	int err;

	napi_value target = NULL;

	if (!vg_args(env, info, 1, argv, &self))
		return NULL;
	if (napi_get_new_target(env, info, &target) != napi_ok || !target) {
		vg_throw_type(env, "BpfObject: use openObject(path)");
		return NULL;
	}
	if (!vg_string(env, argv[0], "path", path, sizeof(path)))
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o) {
		vg_throw_errno(env, ENOMEM, "open %s", path);
		return NULL;
	}
	mark = vg_log_mark();
	o->obj = bpf_object__open_file(path, NULL);
	if (!o->obj) {
		err = errno;
		free(o);
		snprintf(what, sizeof(what), "open %s", path);
		throw_logged(env, err, mark, what);
		return NULL;
	}
	snprintf(o->name, sizeof(o->name), "%s", bpf_object__name(o->obj));
	o->state = VG_OPENED;
	if (napi_wrap(env, self, o, object_finalize, NULL, NULL) != napi_ok) {
		object_close(o);
		free(o);
		vg_throw_napi(env, "napi_wrap");
		return NULL;
	}
	napi_type_tag_object(env, self, &vg_object_tag);
	return self;
}

napi_value vg_open_object(napi_env env, napi_callback_info info)
{
	napi_value argv[1], ctor, result;

	if (!vg_args(env, info, 1, argv, NULL))
		return NULL;
	VG_NAPI(env, napi_get_reference_value(env, vg_addon(env)->object_ctor, &ctor));
	if (napi_new_instance(env, ctor, 1, argv, &result) != napi_ok)
		return NULL; /* construct() threw */
	return result;
}

/*
 * Finds `name` among the variables of the .rodata data sections (BTF DATASEC) and the map that
 * holds that section. Custom sections (".rodata.cfg") count too.
 */
static bool find_rodata_var(napi_env env, struct vg_object *o, const char *name,
			    struct bpf_map **map, __u32 *offset, __u32 *size)
{
	struct btf *btf = bpf_object__btf(o->obj);
	__u32 id, n;

	if (!btf) {
		vg_throw_errno(env, ENOENT, "setGlobal %s: object %s has no BTF", name, o->name);
		return false;
	}
	n = btf__type_cnt(btf);
	for (id = 1; id < n; id++) {
		const struct btf_type *sec = btf__type_by_id(btf, id);
		const struct btf_var_secinfo *vsi;
		const char *sec_name;
		__u16 i;

		if (!btf_is_datasec(sec))
			continue;
		sec_name = btf__name_by_offset(btf, sec->name_off);
		if (!sec_name || strncmp(sec_name, ".rodata", 7) != 0)
			continue;
		vsi = btf_var_secinfos(sec);
		for (i = 0; i < btf_vlen(sec); i++, vsi++) {
			const struct btf_type *var = btf__type_by_id(btf, vsi->type);
			const char *var_name = var ? btf__name_by_offset(btf, var->name_off) : NULL;

			if (!var_name || strcmp(var_name, name) != 0)
				continue;
			*map = bpf_object__find_map_by_name(o->obj, sec_name);
			if (!*map) {
				vg_throw_errno(env, ENOENT, "setGlobal %s: section %s of object %s has no map",
					       name, sec_name, o->name);
				return false;
			}
			*offset = vsi->offset;
			*size = vsi->size;
			return true;
		}
	}
	vg_throw_errno(env, ENOENT, "setGlobal: no variable \"%s\" in .rodata of object %s", name,
		       o->name);
	return false;
}

static napi_value set_global(napi_env env, napi_callback_info info)
{
	char name[NAME_MAX_LEN];
	napi_value argv[2], self;
	struct vg_object *o;
	struct bpf_map *map;
	__u32 offset, size;
	size_t len, data_size = 0;
	void *value;
	char *data;

	if (!vg_args(env, info, 2, argv, &self) || !(o = vg_object_this(env, self, "setGlobal")) ||
	    !vg_string(env, argv[0], "name", name, sizeof(name)) ||
	    !vg_bytes(env, argv[1], "value", &value, &len) ||
	    !vg_object_require(env, o, VG_OPENED, "setGlobal") ||
	    !find_rodata_var(env, o, name, &map, &offset, &size))
		return NULL;
	if (len != size) {
		vg_throw_errno(env, EINVAL, "setGlobal %s: value is %zu bytes, the variable is %u", name,
			       len, size);
		return NULL;
	}
	/* Before load this is libbpf's private, writable copy of the section. */
	data = (char *)bpf_map__initial_value(map, &data_size);
	if (!data || (size_t)offset + size > data_size) {
		vg_throw_errno(env, EINVAL, "setGlobal %s: %s has no room at offset %u", name,
			       bpf_map__name(map), offset);
		return NULL;
	}
	memcpy(data + offset, value, len);
	return NULL;
}

static napi_value set_map_max_entries(napi_env env, napi_callback_info info)
{
	char name[NAME_MAX_LEN];
	napi_value argv[2], self;
	struct vg_object *o;
	struct bpf_map *map;
	int64_t max;
	int err;

	if (!vg_args(env, info, 2, argv, &self) ||
	    !(o = vg_object_this(env, self, "setMapMaxEntries")) ||
	    !vg_string(env, argv[0], "map", name, sizeof(name)) ||
	    !vg_int(env, argv[1], "maxEntries", 0, UINT32_MAX, &max) ||
	    !vg_object_require(env, o, VG_OPENED, "setMapMaxEntries") ||
	    !(map = vg_object_map(env, o, "setMapMaxEntries", name)))
		return NULL;
	err = bpf_map__set_max_entries(map, (__u32)max);
	if (err)
		vg_throw_errno(env, err, "setMapMaxEntries %s", name);
	return NULL;
}

static napi_value set_autoload(napi_env env, napi_callback_info info)
{
	char name[NAME_MAX_LEN];
	napi_value argv[2], self;
	struct bpf_program *prog;
	struct vg_object *o;
	bool autoload;
	int err;

	if (!vg_args(env, info, 2, argv, &self) || !(o = vg_object_this(env, self, "setAutoload")) ||
	    !vg_string(env, argv[0], "program", name, sizeof(name)) ||
	    !vg_bool(env, argv[1], "autoload", &autoload) ||
	    !vg_object_require(env, o, VG_OPENED, "setAutoload") ||
	    !(prog = vg_object_program(env, o, "setAutoload", name)))
		return NULL;
	err = bpf_program__set_autoload(prog, autoload);
	if (err)
		vg_throw_errno(env, err, "setAutoload %s", name);
	return NULL;
}

static napi_value programs(napi_env env, napi_callback_info info)
{
	struct bpf_program *prog;
	napi_value self, result;
	struct vg_object *o;
	uint32_t i = 0;

	if (!vg_args(env, info, 0, NULL, &self) || !(o = vg_object_this(env, self, "programs")))
		return NULL;
	VG_NAPI(env, napi_create_array(env, &result));
	bpf_object__for_each_program(prog, o->obj)
	{
		napi_value name;

		VG_NAPI(env, napi_create_string_utf8(env, bpf_program__name(prog), NAPI_AUTO_LENGTH,
						     &name));
		VG_NAPI(env, napi_set_element(env, result, i++, name));
	}
	return result;
}

static napi_value program_section(napi_env env, napi_callback_info info)
{
	char name[NAME_MAX_LEN];
	struct bpf_program *prog;
	napi_value argv[1], self, result;
	struct vg_object *o;

	if (!vg_args(env, info, 1, argv, &self) || !(o = vg_object_this(env, self, "programSection")) ||
	    !vg_string(env, argv[0], "program", name, sizeof(name)) ||
	    !(prog = vg_object_program(env, o, "programSection", name)))
		return NULL;
	VG_NAPI(env, napi_create_string_utf8(env, bpf_program__section_name(prog), NAPI_AUTO_LENGTH,
					     &result));
	return result;
}

static napi_value load(napi_env env, napi_callback_info info)
{
	char what[128];
	struct vg_object *o;
	napi_value self;
	uint64_t mark;
	int err;

	if (!vg_args(env, info, 0, NULL, &self) || !(o = vg_object_this(env, self, "load")) ||
	    !vg_object_require(env, o, VG_OPENED, "load"))
		return NULL;
	mark = vg_log_mark();
	err = bpf_object__load(o->obj);
	if (err) {
		o->state = VG_LOAD_FAILED;
		snprintf(what, sizeof(what), "load %s", o->name);
		throw_logged(env, err, mark, what);
		return NULL;
	}
	o->state = VG_LOADED;
	return NULL;
}

/* Keeps the link; its handle is its position + 1, never reused. */
static napi_value add_link(napi_env env, struct vg_object *o, struct bpf_link *link)
{
	napi_value handle;

	if (o->nlinks == o->cap_links) {
		size_t cap = o->cap_links ? o->cap_links * 2 : 16;
		struct bpf_link **links = realloc(o->links, cap * sizeof(*links));

		if (!links) {
			bpf_link__destroy(link);
			vg_throw_errno(env, ENOMEM, "attach");
			return NULL;
		}
		o->links = links;
		o->cap_links = cap;
	}
	o->links[o->nlinks++] = link;
	VG_NAPI(env, napi_create_uint32(env, (uint32_t)o->nlinks, &handle));
	return handle;
}

static napi_value attach(napi_env env, napi_callback_info info)
{
	char name[NAME_MAX_LEN], what[NAME_MAX_LEN + 16];
	napi_value argv[1], self;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct vg_object *o;
	uint64_t mark;

	if (!vg_args(env, info, 1, argv, &self) || !(o = vg_object_this(env, self, "attach")) ||
	    !vg_string(env, argv[0], "program", name, sizeof(name)) ||
	    !vg_object_require(env, o, VG_LOADED, "attach") ||
	    !(prog = vg_object_program(env, o, "attach", name)))
		return NULL;
	mark = vg_log_mark();
	link = bpf_program__attach(prog);
	if (!link) {
		int err = errno;

		snprintf(what, sizeof(what), "attach %s", name);
		throw_logged(env, err, mark, what);
		return NULL;
	}
	return add_link(env, o, link);
}

static napi_value attach_cgroup(napi_env env, napi_callback_info info)
{
	char name[NAME_MAX_LEN], path[4096], what[NAME_MAX_LEN + 4200];
	napi_value argv[2], self;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct vg_object *o;
	uint64_t mark;
	int fd, err;

	if (!vg_args(env, info, 2, argv, &self) || !(o = vg_object_this(env, self, "attachCgroup")) ||
	    !vg_string(env, argv[0], "program", name, sizeof(name)) ||
	    !vg_string(env, argv[1], "cgroupPath", path, sizeof(path)) ||
	    !vg_object_require(env, o, VG_LOADED, "attachCgroup") ||
	    !(prog = vg_object_program(env, o, "attachCgroup", name)))
		return NULL;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		vg_throw_errno(env, errno, "attachCgroup %s: open %s", name, path);
		return NULL;
	}
	mark = vg_log_mark();
	link = bpf_program__attach_cgroup(prog, fd);
	err = errno;
	close(fd); /* the link holds the cgroup */
	if (!link) {
		snprintf(what, sizeof(what), "attachCgroup %s to %s", name, path);
		throw_logged(env, err, mark, what);
		return NULL;
	}
	return add_link(env, o, link);
}

static napi_value detach(napi_env env, napi_callback_info info)
{
	napi_value argv[1], self;
	struct vg_object *o;
	struct bpf_link *link;
	int64_t handle;
	int err;

	if (!vg_args(env, info, 1, argv, &self) || !(o = vg_object_this(env, self, "detach")) ||
	    !vg_int(env, argv[0], "link", 1, UINT32_MAX, &handle))
		return NULL;
	if ((size_t)handle > o->nlinks || !o->links[handle - 1]) {
		vg_throw_errno(env, ENOENT, "detach: no link %lld in object %s", (long long)handle,
			       o->name);
		return NULL;
	}
	link = o->links[handle - 1];
	o->links[handle - 1] = NULL;
	err = bpf_link__destroy(link); /* frees the link even when detaching fails */
	if (err)
		vg_throw_errno(env, err, "detach link %lld of object %s", (long long)handle, o->name);
	return NULL;
}

/* The kernel's id of the object behind @fd; 0 when it has none (not loaded). */
static uint32_t fd_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	/* Every info struct starts with type and id: the smallest of them is read. */
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static bool push_id(napi_env env, napi_value list, const char *name, uint32_t id)
{
	napi_value entry;
	uint32_t n;

	if (!id)
		return true;
	if (napi_create_object(env, &entry) != napi_ok || !vg_set_string(env, entry, "name", name) ||
	    !vg_set_number(env, entry, "id", id) || napi_get_array_length(env, list, &n) != napi_ok ||
	    napi_set_element(env, list, n, entry) != napi_ok) {
		vg_throw_napi(env, "ids");
		return false;
	}
	return true;
}

/*
 * The kernel's ids of the object's maps, programs and links: what another process would name to
 * get an fd of one (self-protection refuses that).
 */
static napi_value ids(napi_env env, napi_callback_info info)
{
	napi_value self, result, maps, progs, links;
	struct vg_object *o;
	struct bpf_program *prog;
	struct bpf_map *map;
	char name[32];
	size_t i;

	if (!vg_args(env, info, 0, NULL, &self) || !(o = vg_object_this(env, self, "ids")) ||
	    !vg_object_require(env, o, VG_LOADED, "ids"))
		return NULL;
	VG_NAPI(env, napi_create_object(env, &result));
	VG_NAPI(env, napi_create_array(env, &maps));
	VG_NAPI(env, napi_create_array(env, &progs));
	VG_NAPI(env, napi_create_array(env, &links));
	bpf_object__for_each_map(map, o->obj) {
		if (!push_id(env, maps, bpf_map__name(map), fd_id(bpf_map__fd(map))))
			return NULL;
	}
	bpf_object__for_each_program(prog, o->obj) {
		if (!push_id(env, progs, bpf_program__name(prog), fd_id(bpf_program__fd(prog))))
			return NULL;
	}
	for (i = 0; i < o->nlinks; i++) {
		if (!o->links[i])
			continue;
		snprintf(name, sizeof(name), "%zu", i + 1);
		if (!push_id(env, links, name, fd_id(bpf_link__fd(o->links[i]))))
			return NULL;
	}
	VG_NAPI(env, napi_set_named_property(env, result, "maps", maps));
	VG_NAPI(env, napi_set_named_property(env, result, "programs", progs));
	VG_NAPI(env, napi_set_named_property(env, result, "links", links));
	return result;
}

static napi_value close_object(napi_env env, napi_callback_info info)
{
	bool tagged = false;
	napi_value self;
	void *o = NULL;

	if (!vg_args(env, info, 0, NULL, &self))
		return NULL;
	if (napi_check_object_type_tag(env, self, &vg_object_tag, &tagged) != napi_ok || !tagged ||
	    napi_unwrap(env, self, &o) != napi_ok || !o) {
		vg_throw_type(env, "close: `this` is not a BpfObject");
		return NULL;
	}
	object_close(o);
	return NULL;
}

napi_status vg_object_define(napi_env env, napi_value *ctor)
{
#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default_method, NULL}
	napi_property_descriptor methods[] = {
		METHOD("setGlobal", set_global),
		METHOD("setMapMaxEntries", set_map_max_entries),
		METHOD("setAutoload", set_autoload),
		METHOD("programs", programs),
		METHOD("programSection", program_section),
		METHOD("maps", vg_maps),
		METHOD("load", load),
		METHOD("attach", attach),
		METHOD("attachCgroup", attach_cgroup),
		METHOD("detach", detach),
		METHOD("ids", ids),
		METHOD("mapLookup", vg_map_lookup),
		METHOD("mapUpdate", vg_map_update),
		METHOD("mapSetProgram", vg_map_set_program),
		METHOD("mapSetInner", vg_map_set_inner),
		METHOD("mapDelete", vg_map_delete),
		METHOD("mapNextKey", vg_map_next_key),
		METHOD("openRing", vg_open_ring),
		METHOD("close", close_object),
	};
#undef METHOD
	return napi_define_class(env, "BpfObject", NAPI_AUTO_LENGTH, construct, NULL,
				 sizeof(methods) / sizeof(methods[0]), methods, ctor);
}
