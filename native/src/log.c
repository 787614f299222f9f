/*
 * libbpf's messages (warnings and info, the verifier log among them) go into a bounded buffer
 * of lines instead of stderr, so that TypeScript decides where they go (drainLog) and a failed
 * load can quote the tail of the verifier's verdict in its error.
 *
 * libbpf may print from any thread (the drain thread included), hence the mutex. The buffer is
 * process-wide, like libbpf's print hook.
 */
#include "bridge.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX_LINES 1024
#define LOG_MAX_LINE 4096 /* longer lines are cut */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[LOG_MAX_LINES]; /* a ring: line number n is log_lines[n % LOG_MAX_LINES] */
static uint64_t log_next;              /* number of the next line to append */
static uint64_t log_first;             /* oldest line still held */
static char log_partial[LOG_MAX_LINE]; /* text of a line whose '\n' has not come yet */
static size_t log_partial_len;

static void push_line(const char *text, size_t len)
{
	char *line;

	if (len >= LOG_MAX_LINE)
		len = LOG_MAX_LINE - 1;
	line = malloc(len + 1);
	if (!line)
		return;
	memcpy(line, text, len);
	line[len] = '\0';
	if (log_next - log_first == LOG_MAX_LINES) {
		free(log_lines[log_first % LOG_MAX_LINES]);
		log_lines[log_first % LOG_MAX_LINES] = NULL;
		log_first++;
	}
	log_lines[log_next % LOG_MAX_LINES] = line;
	log_next++;
}

/* Appends text split at newlines; a trailing piece without '\n' waits for the next message. */
static void append(const char *text)
{
	const char *p = text, *nl;

	while ((nl = strchr(p, '\n'))) {
		size_t len = (size_t)(nl - p);

		if (log_partial_len) {
			size_t room = sizeof(log_partial) - 1 - log_partial_len;
			size_t take = len < room ? len : room;

			memcpy(log_partial + log_partial_len, p, take);
			log_partial_len += take;
			push_line(log_partial, log_partial_len);
			log_partial_len = 0;
		} else {
			push_line(p, len);
		}
		p = nl + 1;
	}
	if (*p) {
		size_t len = strlen(p);
		size_t room = sizeof(log_partial) - 1 - log_partial_len;

		if (len > room)
			len = room;
		memcpy(log_partial + log_partial_len, p, len);
		log_partial_len += len;
	}
}

static int print_hook(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char small[1024];
	char *text = small;
	va_list aq;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(small)) {
		/* A verifier log arrives as one message of up to megabytes. */
		text = malloc((size_t)n + 1);
		if (!text)
			return 0;
		vsnprintf(text, (size_t)n + 1, fmt, ap);
	}
	pthread_mutex_lock(&log_mu);
	append(text);
	pthread_mutex_unlock(&log_mu);
	if (text != small)
		free(text);
	return n;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void install(void)
{
	libbpf_set_print(print_hook);
}

void vg_log_install(void)
{
	pthread_once(&install_once, install);
}

uint64_t vg_log_mark(void)
{
	uint64_t mark;

	pthread_mutex_lock(&log_mu);
	mark = log_next;
	pthread_mutex_unlock(&log_mu);
	return mark;
}

char *vg_log_tail(uint64_t mark, size_t max_lines, size_t max_bytes)
{
	uint64_t from, n;
	size_t total = 0;
	char *out = NULL;

	pthread_mutex_lock(&log_mu);
	/* A partial line at the end of a failed operation is part of its story. */
	if (log_partial_len) {
		push_line(log_partial, log_partial_len);
		log_partial_len = 0;
	}
	from = mark > log_first ? mark : log_first;
	if (log_next - from > max_lines)
		from = log_next - max_lines;
	/* Walk back from the newest line while the bytes fit. */
	for (n = log_next; n > from; n--) {
		size_t len = strlen(log_lines[(n - 1) % LOG_MAX_LINES]) + 1;

		if (total + len > max_bytes)
			break;
		total += len;
	}
	from = n;
	if (total > 0 && (out = malloc(total))) {
		char *p = out;

		for (n = from; n < log_next; n++) {
			const char *line = log_lines[n % LOG_MAX_LINES];
			size_t len = strlen(line);

			memcpy(p, line, len);
			p += len;
			*p++ = '\n';
		}
		p[-1] = '\0';
	}
	pthread_mutex_unlock(&log_mu);
	return out;
}

napi_value vg_drain_log(napi_env env, napi_callback_info info)
{
	napi_value result;
	uint64_t n;
	uint32_t i = 0;

	(void)info;
	VG_NAPI(env, napi_create_array(env, &result));
	pthread_mutex_lock(&log_mu);
	if (log_partial_len) {
		push_line(log_partial, log_partial_len);
		log_partial_len = 0;
	}
	for (n = log_first; n < log_next; n++) {
		char *line = log_lines[n % LOG_MAX_LINES];
		napi_value s;

		/* Lines are dropped even if making the string fails: the log must not grow forever. */
		if (napi_create_string_utf8(env, line, NAPI_AUTO_LENGTH, &s) == napi_ok)
			napi_set_element(env, result, i++, s);
		free(line);
		log_lines[n % LOG_MAX_LINES] = NULL;
	}
	log_first = log_next;
	pthread_mutex_unlock(&log_mu);
	return result;
}
