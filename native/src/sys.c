/*
 * The few system facts and calls Node lacks: clocks to line up kernel timestamps, the possible
 * CPU count for per-CPU maps, mount(2) for tracefs/bpffs/securityfs, and probes whose verdict
 * TypeScript turns into an enforcement choice.
 */
#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 4096

static bool set_clock(napi_env env, napi_value obj, const char *key, clockid_t id)
{
	struct timespec ts;
	napi_value v;

	if (clock_gettime(id, &ts) != 0) {
		vg_throw_errno(env, errno, "clock_gettime %s", key);
		return false;
	}
	if (napi_create_bigint_uint64(env, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec,
				      &v) != napi_ok ||
	    napi_set_named_property(env, obj, key, v) != napi_ok) {
		vg_throw_napi(env, "clocks");
		return false;
	}
	return true;
}

napi_value vg_clocks(napi_env env, napi_callback_info info)
{
	napi_value result;

	(void)info;
	VG_NAPI(env, napi_create_object(env, &result));
	/* Read back to back: the differences between them are what callers want. */
	if (!set_clock(env, result, "realtime", CLOCK_REALTIME) ||
	    !set_clock(env, result, "monotonic", CLOCK_MONOTONIC) ||
	    !set_clock(env, result, "boottime", CLOCK_BOOTTIME))
		return NULL;
	return result;
}

napi_value vg_num_possible_cpus(napi_env env, napi_callback_info info)
{
	napi_value result;
	int n = libbpf_num_possible_cpus();

	(void)info;
	if (n < 0) {
		vg_throw_errno(env, n, "numPossibleCpus");
		return NULL;
	}
	VG_NAPI(env, napi_create_int32(env, n, &result));
	return result;
}

napi_value vg_mount(napi_env env, napi_callback_info info)
{
	char source[PATH_LEN], target[PATH_LEN], fstype[256], data[PATH_LEN];
	napi_value argv[5];
	bool has_data;
	int64_t flags;

	if (!vg_args(env, info, 5, argv, NULL) ||
	    !vg_string(env, argv[0], "source", source, sizeof(source)) ||
	    !vg_string(env, argv[1], "target", target, sizeof(target)) ||
	    !vg_string(env, argv[2], "fstype", fstype, sizeof(fstype)) ||
	    !vg_int(env, argv[3], "flags", 0, UINT32_MAX, &flags))
		return NULL;
	has_data = !vg_is_nullish(env, argv[4]);
	if (has_data && !vg_string(env, argv[4], "data", data, sizeof(data)))
		return NULL;
	if (mount(source, target, fstype, (unsigned long)flags, has_data ? data : NULL) != 0)
		vg_throw_errno(env, errno, "mount %s on %s (%s)", source, target, fstype);
	return NULL;
}

napi_value vg_probe_fanotify(napi_env env, napi_callback_info info)
{
	napi_value argv[2], result;
	int64_t init_flags, event_flags;
	int fd, err = 0;

	if (!vg_args(env, info, 2, argv, NULL) ||
	    !vg_int(env, argv[0], "initFlags", 0, UINT32_MAX, &init_flags) ||
	    !vg_int(env, argv[1], "eventFlags", 0, UINT32_MAX, &event_flags))
		return NULL;
	fd = fanotify_init((unsigned int)init_flags, (unsigned int)event_flags);
	if (fd < 0)
		err = errno;
	else
		close(fd);
	VG_NAPI(env, napi_create_int32(env, err, &result));
	return result;
}

napi_value vg_probe_prog_type(napi_env env, napi_callback_info info)
{
	napi_value argv[1], result;
	int64_t type;

	if (!vg_args(env, info, 1, argv, NULL) ||
	    !vg_int(env, argv[0], "type", 0, INT32_MAX, &type))
		return NULL;
	VG_NAPI(env, napi_create_int32(env, libbpf_probe_bpf_prog_type((enum bpf_prog_type)type, NULL),
				       &result));
	return result;
}

napi_value vg_libbpf_version(napi_env env, napi_callback_info info)
{
	char version[32];
	napi_value result;

	(void)info;
	snprintf(version, sizeof(version), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	VG_NAPI(env, napi_create_string_utf8(env, version, NAPI_AUTO_LENGTH, &result));
	return result;
}
