/*
 * Map access by name on a loaded object. Keys and values are Buffers of exactly the map's
 * sizes; a per-CPU map's value is numPossibleCpus() slots of round_up(value_size, 8) bytes, the
 * layout the kernel uses. Sizes are checked here so that the error names both sizes.
 */
#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#define NAME_MAX_LEN 256

bool vg_map_is_percpu(enum bpf_map_type type)
{
	switch (type) {
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return true;
	default:
		return false;
	}
}

struct map_call {
	const char *method;
	struct vg_object *o;
	char name[NAME_MAX_LEN];
	struct bpf_map *map;
	int fd;
	size_t key_size;
	size_t value_size; /* per-CPU: all the slots */
	int cpus;          /* per-CPU maps only, else 0 */
};

/* `this`, the map name in argv[0], the loaded object and the map's sizes. */
static bool map_call(napi_env env, napi_callback_info info, const char *method, size_t n,
		     napi_value *argv, struct map_call *c)
{
	struct vg_object *o;
	napi_value self;

	c->method = method;
	if (!vg_args(env, info, n, argv, &self) || !(o = vg_object_this(env, self, method)) ||
	    !vg_string(env, argv[0], "map", c->name, sizeof(c->name)) ||
	    !vg_object_require(env, o, VG_LOADED, method) ||
	    !(c->map = vg_object_map(env, o, method, c->name)))
		return false;
	c->o = o;
	c->fd = bpf_map__fd(c->map);
	c->key_size = bpf_map__key_size(c->map);
	c->value_size = bpf_map__value_size(c->map);
	c->cpus = 0;
	if (vg_map_is_percpu(bpf_map__type(c->map))) {
		c->cpus = libbpf_num_possible_cpus();
		if (c->cpus < 0) {
			vg_throw_errno(env, c->cpus, "%s %s: possible CPUs", method, c->name);
			return false;
		}
		c->value_size = (size_t)c->cpus * ((c->value_size + 7) & ~(size_t)7);
	}
	return true;
}

/* A key Buffer of the map's key size; a map without keys (queue, stack) takes an empty one. */
static bool key_arg(napi_env env, struct map_call *c, napi_value v, void **key)
{
	size_t len;

	if (!vg_bytes(env, v, "key", key, &len))
		return false;
	if (len != c->key_size) {
		vg_throw_errno(env, EINVAL, "%s %s: key is %zu bytes, expected %zu", c->method, c->name,
			       len, c->key_size);
		return false;
	}
	if (c->key_size == 0)
		*key = NULL;
	return true;
}

static bool value_arg(napi_env env, struct map_call *c, napi_value v, void **value)
{
	size_t len;

	if (!vg_bytes(env, v, "value", value, &len))
		return false;
	if (len == c->value_size)
		return true;
	if (c->cpus)
		vg_throw_errno(env, EINVAL,
			       "%s %s: value is %zu bytes, expected %zu (%d CPUs x %u bytes, per-CPU map)",
			       c->method, c->name, len, c->value_size, c->cpus,
			       (bpf_map__value_size(c->map) + 7) & ~7u);
	else
		vg_throw_errno(env, EINVAL, "%s %s: value is %zu bytes, expected %zu", c->method,
			       c->name, len, c->value_size);
	return false;
}

napi_value vg_map_lookup(napi_env env, napi_callback_info info)
{
	napi_value argv[2], result;
	struct map_call c;
	void *key, *value;
	int err;

	if (!map_call(env, info, "mapLookup", 2, argv, &c) || !key_arg(env, &c, argv[1], &key))
		return NULL;
	VG_NAPI(env, napi_create_buffer(env, c.value_size, &value, &result));
	err = bpf_map_lookup_elem(c.fd, key, value);
	if (err == -ENOENT) {
		VG_NAPI(env, napi_get_null(env, &result));
	} else if (err) {
		vg_throw_errno(env, err, "mapLookup %s", c.name);
		return NULL;
	}
	return result;
}

napi_value vg_map_update(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	struct map_call c;
	void *key, *value;
	int64_t flags = 0;
	int err;

	if (!map_call(env, info, "mapUpdate", 4, argv, &c) || !key_arg(env, &c, argv[1], &key) ||
	    !value_arg(env, &c, argv[2], &value))
		return NULL;
	if (!vg_is_nullish(env, argv[3]) && !vg_int(env, argv[3], "flags", 0, UINT32_MAX, &flags))
		return NULL;
	err = bpf_map_update_elem(c.fd, key, value, (__u64)flags);
	if (err)
		vg_throw_errno(env, err, "mapUpdate %s", c.name);
	return NULL;
}

/* A program array's slot: the program of this object that a tail call through `key` runs. */
napi_value vg_map_set_program(napi_env env, napi_callback_info info)
{
	char program[NAME_MAX_LEN];
	struct bpf_program *prog;
	napi_value argv[3];
	struct map_call c;
	void *key;
	int fd, err;

	if (!map_call(env, info, "mapSetProgram", 3, argv, &c) || !key_arg(env, &c, argv[1], &key) ||
	    !vg_string(env, argv[2], "program", program, sizeof(program)) ||
	    !(prog = vg_object_program(env, c.o, "mapSetProgram", program)))
		return NULL;
	if (bpf_map__type(c.map) != BPF_MAP_TYPE_PROG_ARRAY) {
		vg_throw_errno(env, EINVAL, "mapSetProgram %s: not a program array", c.name);
		return NULL;
	}
	fd = bpf_program__fd(prog);
	if (fd < 0) {
		vg_throw_errno(env, fd, "mapSetProgram %s: program %s is not loaded", c.name, program);
		return NULL;
	}
	err = bpf_map_update_elem(c.fd, key, &fd, BPF_ANY);
	if (err)
		vg_throw_errno(env, err, "mapSetProgram %s: %s", c.name, program);
	return NULL;
}

/*
 * A map-in-map's slot: the map of this object that lookups through `key` reach. The kernel
 * waits for every running program to finish before such an update returns, which the
 * enforcement stage relies on (bpf/records/enforce.h).
 */
napi_value vg_map_set_inner(napi_env env, napi_callback_info info)
{
	char inner[NAME_MAX_LEN];
	struct bpf_map *map;
	napi_value argv[3];
	struct map_call c;
	void *key;
	int fd, err;

	if (!map_call(env, info, "mapSetInner", 3, argv, &c) || !key_arg(env, &c, argv[1], &key) ||
	    !vg_string(env, argv[2], "inner", inner, sizeof(inner)) ||
	    !(map = vg_object_map(env, c.o, "mapSetInner", inner)))
		return NULL;
	if (bpf_map__type(c.map) != BPF_MAP_TYPE_ARRAY_OF_MAPS &&
	    bpf_map__type(c.map) != BPF_MAP_TYPE_HASH_OF_MAPS) {
		vg_throw_errno(env, EINVAL, "mapSetInner %s: not a map of maps", c.name);
		return NULL;
	}
	fd = bpf_map__fd(map);
	if (fd < 0) {
		vg_throw_errno(env, fd, "mapSetInner %s: map %s is not created", c.name, inner);
		return NULL;
	}
	err = bpf_map_update_elem(c.fd, key, &fd, BPF_ANY);
	if (err)
		vg_throw_errno(env, err, "mapSetInner %s: %s", c.name, inner);
	return NULL;
}

napi_value vg_map_delete(napi_env env, napi_callback_info info)
{
	napi_value argv[2], result;
	struct map_call c;
	void *key;
	int err;

	if (!map_call(env, info, "mapDelete", 2, argv, &c) || !key_arg(env, &c, argv[1], &key))
		return NULL;
	err = bpf_map_delete_elem(c.fd, key);
	if (err && err != -ENOENT) {
		vg_throw_errno(env, err, "mapDelete %s", c.name);
		return NULL;
	}
	VG_NAPI(env, napi_get_boolean(env, err == 0, &result));
	return result;
}

napi_value vg_map_next_key(napi_env env, napi_callback_info info)
{
	napi_value argv[2], result;
	struct map_call c;
	void *key = NULL, *next;
	int err;

	if (!map_call(env, info, "mapNextKey", 2, argv, &c))
		return NULL;
	if (!vg_is_nullish(env, argv[1]) && !key_arg(env, &c, argv[1], &key))
		return NULL;
	VG_NAPI(env, napi_create_buffer(env, c.key_size, &next, &result));
	err = bpf_map_get_next_key(c.fd, key, next);
	if (err == -ENOENT) {
		VG_NAPI(env, napi_get_null(env, &result));
	} else if (err) {
		vg_throw_errno(env, err, "mapNextKey %s", c.name);
		return NULL;
	}
	return result;
}

napi_value vg_maps(napi_env env, napi_callback_info info)
{
	napi_value self, result;
	struct vg_object *o;
	struct bpf_map *map;
	uint32_t i = 0;

	if (!vg_args(env, info, 0, NULL, &self) || !(o = vg_object_this(env, self, "maps")))
		return NULL;
	VG_NAPI(env, napi_create_array(env, &result));
	bpf_object__for_each_map(map, o->obj)
	{
		napi_value m;

		VG_NAPI(env, napi_create_object(env, &m));
		if (!vg_set_string(env, m, "name", bpf_map__name(map)) ||
		    !vg_set_number(env, m, "type", bpf_map__type(map)) ||
		    !vg_set_number(env, m, "keySize", bpf_map__key_size(map)) ||
		    !vg_set_number(env, m, "valueSize", bpf_map__value_size(map)) ||
		    !vg_set_number(env, m, "maxEntries", bpf_map__max_entries(map)) ||
		    !vg_set_bool(env, m, "perCpu", vg_map_is_percpu(bpf_map__type(map)))) {
			vg_throw_napi(env, "maps");
			return NULL;
		}
		VG_NAPI(env, napi_set_element(env, result, i++, m));
	}
	return result;
}
