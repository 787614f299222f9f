/*
 * The module: the KernelBridge functions (src/sensor/kernel/bridge.ts) and the per-environment
 * constructors of the BpfObject and Ring classes.
 */
#include "bridge.h"

#include <stdlib.h>

/* Random 128-bit values; they only need to differ from each other and from other addons'. */
const napi_type_tag vg_object_tag = {0x5c1f0d6a2e3b4f71ULL, 0x9a8e7d6c5b4a3928ULL};
const napi_type_tag vg_ring_tag = {0x7b2c9e41d0a35f86ULL, 0x1e2d3c4b5a697887ULL};

static void addon_free(napi_env env, void *data, void *hint)
{
	struct vg_addon *a = data;

	(void)hint;
	napi_delete_reference(env, a->object_ctor);
	napi_delete_reference(env, a->ring_ctor);
	free(a);
}

struct vg_addon *vg_addon(napi_env env)
{
	void *data = NULL;

	napi_get_instance_data(env, &data);
	return data;
}

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor fns[] = {
		{"openObject", NULL, vg_open_object, NULL, NULL, NULL, napi_enumerable, NULL},
		{"clocks", NULL, vg_clocks, NULL, NULL, NULL, napi_enumerable, NULL},
		{"numPossibleCpus", NULL, vg_num_possible_cpus, NULL, NULL, NULL, napi_enumerable, NULL},
		{"mount", NULL, vg_mount, NULL, NULL, NULL, napi_enumerable, NULL},
		{"probeFanotify", NULL, vg_probe_fanotify, NULL, NULL, NULL, napi_enumerable, NULL},
		{"openFanotify", NULL, vg_open_fanotify, NULL, NULL, NULL, napi_enumerable, NULL},
		{"probeProgType", NULL, vg_probe_prog_type, NULL, NULL, NULL, napi_enumerable, NULL},
		{"libbpfVersion", NULL, vg_libbpf_version, NULL, NULL, NULL, napi_enumerable, NULL},
		{"drainLog", NULL, vg_drain_log, NULL, NULL, NULL, napi_enumerable, NULL},
	};
	struct vg_addon *a;
	napi_value object_ctor, ring_ctor;

	vg_log_install();
	a = calloc(1, sizeof(*a));
	if (!a) {
		napi_throw_error(env, NULL, "vigil_bridge: out of memory");
		return NULL;
	}
	if (vg_object_define(env, &object_ctor) != napi_ok ||
	    vg_ring_define(env, &ring_ctor) != napi_ok ||
	    napi_create_reference(env, object_ctor, 1, &a->object_ctor) != napi_ok ||
	    napi_create_reference(env, ring_ctor, 1, &a->ring_ctor) != napi_ok ||
	    napi_set_instance_data(env, a, addon_free, NULL) != napi_ok) {
		free(a);
		vg_throw_napi(env, "vigil_bridge init");
		return NULL;
	}
	VG_NAPI(env, napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns));
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
