// SPDX-License-Identifier: MIT
/*
 * Unit tests: libp2pbuf 1.0's ABI rules. The version query; the caller's
 * structures of any size (an older caller's smaller one is refused below
 * 1.0, a newer caller's larger one accepted when its unknown tail is zero,
 * output written exactly to the caller's size, arrays strided by it); and
 * p2pbuf_device_from_fd() refusing what is not a DRM node.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "test.h"

static int version(void)
{
	CHECK_EQ(p2pbuf_version_major(), P2PBUF_VERSION_MAJOR);
	CHECK_EQ(p2pbuf_version_minor(), P2PBUF_VERSION_MINOR);
	CHECK_EQ(P2PBUF_VERSION_MAJOR, 1);
	CHECK_EQ(p2pbuf_check_version(1, 0), 0);
	CHECK_EQ(p2pbuf_check_version(P2PBUF_VERSION_MAJOR, P2PBUF_VERSION_MINOR), 0);
	CHECK_EQ(p2pbuf_check_version(1, P2PBUF_VERSION_MINOR + 1), -ENOTSUP);
	CHECK_EQ(p2pbuf_check_version(0, 3), -ENOTSUP);
	CHECK_EQ(p2pbuf_check_version(2, 0), -ENOTSUP);
	CHECK_EQ(p2pbuf_check_version(-1, 0), -EINVAL);
	CHECK_EQ(p2pbuf_check_version(1, -1), -EINVAL);
	CHECK(P2PBUF_VERSION_AT_LEAST(1, 0));
	CHECK(P2PBUF_VERSION_AT_LEAST(0, 9));
	CHECK(!P2PBUF_VERSION_AT_LEAST(1, P2PBUF_VERSION_MINOR + 1));
	CHECK(!P2PBUF_VERSION_AT_LEAST(2, 0));
	return 0;
}

static int memfd(size_t size)
{
	int fd = memfd_create("p2pbuf-test-abi", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What a newer caller compiled with a larger struct p2pbuf_meta passes. */
struct newer_meta {
	struct p2pbuf_meta m;
	uint64_t future[3];
};

/* A structure the library reads: sizes and reserved fields. */
static int struct_in(void)
{
	struct newer_meta n;
	struct p2pbuf_meta m;

	P2PBUF_INIT(m);
	m.buf_size = m.length = 4096;
	CHECK_EQ(p2pbuf_meta_validate(&m), 0);
	m.size = 0;
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m.size = sizeof(m) - 8;
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m.size = sizeof(m);
	m.reserved[1] = 1;
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m.reserved[1] = 0;
	m.pad = 1;
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m.pad = 0;

	/* Newer: its fields the library does not know must be zero. */
	memset(&n, 0, sizeof(n));
	n.m = m;
	n.m.size = sizeof(n);
	CHECK_EQ(p2pbuf_meta_validate(&n.m), 0);
	n.future[2] = 1;
	CHECK_EQ(p2pbuf_meta_validate(&n.m), -E2BIG);
	n.future[2] = 0;
	/* Above a page: refused whatever follows (likely uninitialised). */
	n.m.size = 4097;
	CHECK_EQ(p2pbuf_meta_validate(&n.m), -E2BIG);
	return 0;
}

/* A structure the library fills: exactly the caller's size is written. */
static int struct_out(void)
{
	struct newer_meta n, before;
	unsigned char raw[sizeof(struct p2pbuf_meta) + 16];
	struct p2pbuf_meta *m = (struct p2pbuf_meta *)raw;
	int fd = memfd(8192);

	CHECK(fd >= 0);
	/* A newer caller: its unknown fields come back zero, size kept. */
	memset(&n, 0xff, sizeof(n));
	n.m.size = sizeof(n);
	CHECK_EQ(p2pbuf_meta_init(fd, &n.m), 0);
	CHECK_EQ(n.m.size, sizeof(n));
	CHECK_EQ(n.m.buf_size, 8192);
	CHECK_EQ(n.m.length, 8192);
	CHECK_EQ(n.m.reserved[0] | n.m.reserved[1], 0);
	CHECK_EQ(n.future[0] | n.future[1] | n.future[2], 0);
	/* This version's size: nothing written past it. */
	memset(raw, 0xee, sizeof(raw));
	m->size = sizeof(*m);
	CHECK_EQ(p2pbuf_meta_init(fd, m), 0);
	CHECK_EQ(m->buf_size, 8192);
	for (size_t i = sizeof(*m); i < sizeof(raw); i++)
		CHECK_EQ(raw[i], 0xee);
	/* Too small, too large: refused, and nothing written. */
	memset(&n, 0x11, sizeof(n));
	n.m.size = 8;
	before = n;
	CHECK_EQ(p2pbuf_meta_init(fd, &n.m), -EINVAL);
	CHECK(!memcmp(&n, &before, sizeof(n)));
	n.m.size = 8192;
	before = n;
	CHECK_EQ(p2pbuf_meta_init(fd, &n.m), -E2BIG);
	CHECK(!memcmp(&n, &before, sizeof(n)));
	close(fd);
	return 0;
}

/* Arrays are strided by the caller's size, in and out. */
static int struct_arrays(void)
{
	struct p2pbuf_meta plain[3];
	struct newer_meta newer[3];
	uint8_t a[P2PBUF_WIRE_MAX_SIZE], b[P2PBUF_WIRE_MAX_SIZE];
	size_t alen, blen;
	unsigned int count;

	P2PBUF_INIT_ARRAY(plain, 3);
	memset(newer, 0, sizeof(newer));
	for (unsigned int i = 0; i < 3; i++) {
		plain[i].buf_size = 65536;
		plain[i].offset = 4096 * i;
		plain[i].length = 4096;
		plain[i].cookie = 100 + i;
		snprintf(plain[i].name, sizeof(plain[i].name), "n%u", i);
		newer[i].m = plain[i];
		newer[i].m.size = sizeof(newer[i]);
	}
	CHECK_EQ(p2pbuf_meta_encode(plain, 3, a, sizeof(a), &alen), 0);
	CHECK_EQ(p2pbuf_meta_encode(&newer[0].m, 3, b, sizeof(b), &blen), 0);
	CHECK_EQ(alen, blen);
	CHECK(!memcmp(a, b, alen));
	/* Every element of an array the library reads says the same size. */
	newer[1].m.size = sizeof(struct p2pbuf_meta);
	CHECK_EQ(p2pbuf_meta_encode(&newer[0].m, 3, b, sizeof(b), &blen), -EINVAL);

	/* Filled: the first element's size is the stride, set in each. */
	memset(newer, 0xff, sizeof(newer));
	newer[0].m.size = sizeof(newer[0]);
	CHECK_EQ(p2pbuf_meta_decode(a, alen, &newer[0].m, 3, &count), 0);
	CHECK_EQ(count, 3);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK_EQ(newer[i].m.size, sizeof(newer[i]));
		CHECK_EQ(newer[i].m.cookie, 100 + i);
		CHECK_EQ(newer[i].m.offset, 4096 * i);
		CHECK(!strcmp(newer[i].m.name, plain[i].name));
		CHECK_EQ(newer[i].future[0] | newer[i].future[2], 0);
	}
	return 0;
}

/* Other structures follow the same rules: one of each kind of use. */
static int struct_others(void)
{
	struct p2pbuf_explanation e;
	struct p2pbuf_explain_source src = { .size = sizeof(src) };
	struct p2pbuf_dmabuf_info info = { .size = 4 };
	struct p2pbuf_desc d = { .size = sizeof(d) - 1 };
	int fd = memfd(4096);

	CHECK(fd >= 0);
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t1\nexp_name:\tx\n", &info), -EINVAL);
	CHECK_EQ(p2pbuf_desc_init(fd, 0, 0, 0, &d), -EINVAL);
	d.size = sizeof(d);
	CHECK_EQ(p2pbuf_desc_init(fd, 0, 0, 0, &d), 0);
	CHECK_EQ(d.length, 4096);
	close(fd);
	P2PBUF_INIT(e);
	e.map = P2PBUF_MAP_BUS_ADDRESS;
	e.reserved[0] = 1;
	CHECK_EQ(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_STATIC), -EINVAL);
	CHECK_EQ(e.map, P2PBUF_MAP_BUS_ADDRESS);
	e.reserved[0] = 0;
	CHECK_EQ(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_STATIC), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	src.reserved[1] = 1;
	CHECK_EQ(p2pbuf_explain("00:01.0", "00:02.0", &src, &e), -EINVAL);
	return 0;
}

/* Descriptors that are not DRM device nodes are refused precisely. */
static int from_fd_refuses(void)
{
	struct p2pbuf_device *dev = NULL;
	int p[2], null, file;
	char path[] = "/tmp/p2pbuf-test-abi.XXXXXX";

	CHECK(!pipe2(p, O_CLOEXEC));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	file = mkostemp(path, O_CLOEXEC);
	CHECK(null >= 0 && file >= 0);
	unlink(path);
	CHECK_EQ(p2pbuf_device_from_fd(p[0], 0, &dev), -ENOTTY);
	CHECK_EQ(p2pbuf_device_from_fd(null, 0, &dev), -ENOTTY);	/* char, not DRM */
	CHECK_EQ(p2pbuf_device_from_fd(file, 0, &dev), -ENOTTY);
	CHECK_EQ(p2pbuf_device_from_fd(null, 1u << 5, &dev), -EINVAL);
	CHECK_EQ(p2pbuf_device_from_fd(null, 0, NULL), -EINVAL);
	CHECK_EQ(p2pbuf_device_from_fd(-1, 0, &dev), -EBADF);
	close(p[0]);
	close(p[1]);
	CHECK_EQ(p2pbuf_device_from_fd(p[0], 0, &dev), -EBADF);
	CHECK(!dev);
	close(null);
	close(file);
	return 0;
}

int main(void)
{
	static const struct test tests[] = {
		TEST(version),
		TEST(struct_in),
		TEST(struct_out),
		TEST(struct_arrays),
		TEST(struct_others),
		TEST(from_fd_refuses),
	};

	return run_tests("abi", tests, sizeof(tests) / sizeof(tests[0]));
}
