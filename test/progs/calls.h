/*
 * The "calls" object the file tester programs print: each call as "name": result, where a
 * failed call's result is -errno, so a test can compare it with the event's result.
 */
#ifndef VIGIL_TEST_CALLS_H
#define VIGIL_TEST_CALLS_H

#include <errno.h>
#include <stdio.h>

static const char *sep = "";

static long call(const char *name, long ret)
{
	if (ret < 0)
		ret = -errno;
	printf("%s\"%s\":%ld", sep, name, ret);
	sep = ",";
	return ret;
}

#endif /* VIGIL_TEST_CALLS_H */
