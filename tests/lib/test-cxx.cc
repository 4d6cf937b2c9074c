// SPDX-License-Identifier: MIT
/*
 * The header as C++ code uses it (g++ -std=c++11 -pedantic -Werror): every
 * structure by its plain name, as a C++ programmer writes them, and the
 * functions called through the library built as C.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "p2pbuf/p2pbuf.h"

/* test.h's way, in C++: one line per test, exit 1 if any failed. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		std::fprintf(stderr, "    %s:%d: check failed: %s\n",	\
			     __FILE__, __LINE__, #cond);		\
		return 1;						\
	}								\
} while (0)
#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

/* The plain names, in every caller-allocated structure of the header. */
static int plain_type_names(void)
{
	p2pbuf_device_info info;
	p2pbuf_buffer_info buffer_info;
	p2pbuf_dmabuf_info dmabuf_info;
	p2pbuf_mapping mapping;
	p2pbuf_meta meta;
	p2pbuf_desc desc;
	p2pbuf_explanation explanation;
	p2pbuf_explain_source source = {};
	p2pbuf_io_info io_info;
	p2pbuf_file_explanation file_explanation;
	p2pbuf_device *dev = nullptr;
	p2pbuf_buffer *buf = nullptr;
	p2pbuf_file *file = nullptr;

	(void)buffer_info;
	(void)mapping;
	(void)desc;
	(void)explanation;
	(void)source;
	(void)io_info;
	(void)file_explanation;
	(void)buf;
	(void)file;
	P2PBUF_INIT(info);
	CHECK_EQ(p2pbuf_device_query(dev, &info), -EINVAL);
	P2PBUF_INIT(meta);
	CHECK_EQ(meta.size, sizeof(meta));
	meta.buf_size = 4096;
	meta.length = 4096;
	CHECK_EQ(p2pbuf_meta_validate(&meta), 0);
	/* The version, as a C++ program checks it. */
	CHECK(P2PBUF_VERSION_AT_LEAST(1, 0));
	CHECK_EQ(p2pbuf_check_version(P2PBUF_VERSION_MAJOR, P2PBUF_VERSION_MINOR), 0);
	P2PBUF_INIT(dmabuf_info);
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t1\nexp_name:\tx\n", &dmabuf_info), 0);
	CHECK(!std::strcmp(dmabuf_info.exporter, "x"));
	return 0;
}

/* The enums and constants, as C++ sees them. */
static int constants(void)
{
	const char *name = nullptr;

	CHECK_EQ(p2pbuf_placement_name(P2PBUF_PLACEMENT_VRAM, &name), 0);
	CHECK(!std::strcmp(name, "vram"));
	CHECK_EQ(p2pbuf_reason_name(P2PBUF_REASON_ACS_REDIRECT, &name), 0);
	CHECK(!std::strcmp(name, "acs-redirect"));
	CHECK_EQ(p2pbuf_io_path_name(P2PBUF_IO_PATH_P2P, &name), 0);
	CHECK(!std::strcmp(name, "p2p"));
	CHECK_EQ(P2PBUF_WIRE_MAX_SIZE,
		 P2PBUF_WIRE_HEADER_SIZE + P2PBUF_MAX_BUFFERS * P2PBUF_WIRE_ENTRY_SIZE);
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{ "plain_type_names", plain_type_names },
		{ "constants", constants },
	};
	const char *mode = std::getenv("P2PBUF_TEST_MODE");
	int failed = 0;

	for (const auto &t : tests) {
		int ret = t.fn();

		std::printf("%s %s:c++.%s\n", ret ? "FAIL" : "PASS",
			    mode ? mode : "plain", t.name);
		failed |= ret;
	}
	return failed;
}
