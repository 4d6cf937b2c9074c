/* SPDX-License-Identifier: MIT */
/*
 * A tiny test framework for libp2pbuf's host-side unit tests: each test
 * program lists its tests, runs them in order and prints one line per test,
 * "PASS mode:program.test" or "FAIL ...", and exits 1 if any failed.
 * P2PBUF_TEST_MODE (asan, valgrind, without-rdma-core) names the run.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_TEST_H
#define P2PBUF_TEST_H

#include "fdutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test {
	const char *name;
	int (*fn)(void);
};

/* Fail the current test with a message naming the line. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "    %s:%d: check failed: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		return 1;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		fprintf(stderr, "    %s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b);		\
		return 1;						\
	}								\
} while (0)


static inline int run_tests(const char *program, const struct test *tests,
			    size_t n)
{
	const char *mode = getenv("P2PBUF_TEST_MODE");
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		int fds = open_fds();
		int ret = tests[i].fn();

		if (!ret && open_fds() != fds) {
			fprintf(stderr, "    descriptors leaked: %d before, %d after\n",
				fds, open_fds());
			ret = 1;
		}
		printf("%s %s:%s.%s\n", ret ? "FAIL" : "PASS", mode ? mode : "plain",
		       program, tests[i].name);
		fflush(stdout);
		failed |= ret;
	}
	return failed;
}

#define TEST(fn) { #fn, fn }
#define RUN(program, tests) \
	run_tests(program, tests, sizeof(tests) / sizeof(tests[0]))

#endif
