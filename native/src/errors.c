/*
 * Errors and argument reading. Every failure becomes a JavaScript exception: a kernel or libbpf
 * failure an Error with .errno (positive) and .code ("EPERM"), a wrong argument a TypeError.
 * Nothing here aborts the process.
 */
#include "bridge.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void throw_with(napi_env env, int err, const char *code, const char *message, bool type)
{
	napi_value code_v = NULL, msg_v, error;

	if (code && napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v) != napi_ok)
		return;
	if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg_v) != napi_ok)
		return;
	if ((type ? napi_create_type_error(env, code_v, msg_v, &error)
		  : napi_create_error(env, code_v, msg_v, &error)) != napi_ok)
		return;
	if (err > 0) {
		napi_value errno_v;
		if (napi_create_int32(env, err, &errno_v) == napi_ok)
			napi_set_named_property(env, error, "errno", errno_v);
	}
	napi_throw(env, error);
}

static const char *errno_code(int err, char *buf, size_t size)
{
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, size, "E%d", err);
	return buf;
}

static void throw_errno_v(napi_env env, int err, const char *detail, const char *fmt, va_list ap)
{
	char what[512], code[16];
	char *message;
	size_t len;

	if (err < 0)
		err = -err;
	if (err == 0)
		err = EIO; /* a failure that forgot its errno still throws as a failure */
	vsnprintf(what, sizeof(what), fmt, ap);
	len = strlen(what) + 128 + (detail ? strlen(detail) + 1 : 0);
	message = malloc(len);
	if (!message) {
		throw_with(env, err, errno_code(err, code, sizeof(code)), what, false);
		return;
	}
	snprintf(message, len, "%s: %s%s%s", what, strerror(err), detail ? "\n" : "",
		 detail ? detail : "");
	throw_with(env, err, errno_code(err, code, sizeof(code)), message, false);
	free(message);
}

void vg_throw_errno(napi_env env, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	throw_errno_v(env, err, NULL, fmt, ap);
	va_end(ap);
}

void vg_throw_errno_detail(napi_env env, int err, const char *detail, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	throw_errno_v(env, err, detail, fmt, ap);
	va_end(ap);
}

void vg_throw_type(napi_env env, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	throw_with(env, 0, "ERR_INVALID_ARG_TYPE", message, true);
}

void vg_throw_napi(napi_env env, const char *call)
{
	const napi_extended_error_info *info = NULL;
	bool pending = false;
	char message[512];

	napi_is_exception_pending(env, &pending);
	if (pending)
		return;
	napi_get_last_error_info(env, &info);
	snprintf(message, sizeof(message), "%s failed: %s", call,
		 info && info->error_message ? info->error_message : "unknown N-API error");
	throw_with(env, 0, "ERR_VIGIL_NAPI", message, false);
}

bool vg_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, napi_value *self)
{
	size_t argc = n;

	if (napi_get_cb_info(env, info, &argc, argv, self, NULL) != napi_ok) {
		vg_throw_napi(env, "napi_get_cb_info");
		return false;
	}
	return true;
}

static bool type_is(napi_env env, napi_value v, napi_valuetype want)
{
	napi_valuetype t;

	return napi_typeof(env, v, &t) == napi_ok && t == want;
}

bool vg_is_nullish(napi_env env, napi_value v)
{
	napi_valuetype t;

	return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

bool vg_string(napi_env env, napi_value v, const char *what, char *buf, size_t size)
{
	size_t len;

	if (!type_is(env, v, napi_string)) {
		vg_throw_type(env, "%s must be a string", what);
		return false;
	}
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
		vg_throw_napi(env, "napi_get_value_string_utf8");
		return false;
	}
	if (len >= size) {
		vg_throw_type(env, "%s is too long (%zu bytes, at most %zu)", what, len, size - 1);
		return false;
	}
	if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) {
		vg_throw_napi(env, "napi_get_value_string_utf8");
		return false;
	}
	if (strlen(buf) != len) {
		vg_throw_type(env, "%s must not contain NUL characters", what);
		return false;
	}
	return true;
}

bool vg_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len)
{
	bool is_buffer = false;

	if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) {
		vg_throw_type(env, "%s must be a Buffer", what);
		return false;
	}
	if (napi_get_buffer_info(env, v, data, len) != napi_ok) {
		vg_throw_napi(env, "napi_get_buffer_info");
		return false;
	}
	return true;
}

bool vg_int(napi_env env, napi_value v, const char *what, int64_t min, int64_t max, int64_t *out)
{
	double d;

	if (!type_is(env, v, napi_number)) {
		vg_throw_type(env, "%s must be a number", what);
		return false;
	}
	napi_get_value_double(env, v, &d);
	if (d != d || d < (double)min || d > (double)max || d != (double)(int64_t)d) {
		vg_throw_type(env, "%s must be an integer from %lld to %lld", what, (long long)min,
			      (long long)max);
		return false;
	}
	*out = (int64_t)d;
	return true;
}

bool vg_bool(napi_env env, napi_value v, const char *what, bool *out)
{
	if (!type_is(env, v, napi_boolean)) {
		vg_throw_type(env, "%s must be a boolean", what);
		return false;
	}
	return napi_get_value_bool(env, v, out) == napi_ok;
}

bool vg_set_number(napi_env env, napi_value obj, const char *key, double value)
{
	napi_value v;

	return napi_create_double(env, value, &v) == napi_ok &&
	       napi_set_named_property(env, obj, key, v) == napi_ok;
}

bool vg_set_string(napi_env env, napi_value obj, const char *key, const char *value)
{
	napi_value v;

	return napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok &&
	       napi_set_named_property(env, obj, key, v) == napi_ok;
}

bool vg_set_bool(napi_env env, napi_value obj, const char *key, bool value)
{
	napi_value v;

	return napi_get_boolean(env, value, &v) == napi_ok &&
	       napi_set_named_property(env, obj, key, v) == napi_ok;
}
