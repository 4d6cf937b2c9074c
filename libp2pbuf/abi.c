// SPDX-License-Identifier: MIT
/*
 * libp2pbuf: the library's version, and the caller's structures of any
 * size (the rules in p2pbuf.h, as the kernel's copy_struct_from_user()).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"

int p2pbuf_version_major(void)
{
	return P2PBUF_VERSION_MAJOR;
}

int p2pbuf_version_minor(void)
{
	return P2PBUF_VERSION_MINOR;
}

int p2pbuf_check_version(int major, int minor)
{
	if (major < 0 || minor < 0)
		return -EINVAL;
	if (major != P2PBUF_VERSION_MAJOR || minor > P2PBUF_VERSION_MINOR)
		return -ENOTSUP;
	return 0;
}

int p2pbuf__zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* The size a caller's structure says it has: -EINVAL or -E2BIG if bad. */
static int64_t caller_size(const void *s, size_t ksize)
{
	uint32_t usize;

	memcpy(&usize, s, sizeof(usize));
	if (usize < ksize)
		return -EINVAL;
	if (usize > P2PBUF__STRUCT_MAX)
		return -E2BIG;
	return usize;
}

int p2pbuf__struct_in(void *dst, size_t ksize, const void *src)
{
	int64_t usize = caller_size(src, ksize);

	if (usize < 0)
		return (int)usize;
	/* A newer caller's fields the library does not know must be unused. */
	if (!p2pbuf__zero((const char *)src + ksize, (size_t)usize - ksize))
		return -E2BIG;
	memmove(dst, src, ksize);
	return 0;
}

int p2pbuf__struct_out_ok(const void *dst, size_t ksize)
{
	int64_t usize = caller_size(dst, ksize);

	return usize < 0 ? (int)usize : 0;
}

void p2pbuf__struct_out(void *dst, const void *src, size_t ksize)
{
	uint32_t usize;

	memcpy(&usize, dst, sizeof(usize));
	memmove(dst, src, ksize);
	memcpy(dst, &usize, sizeof(usize));
	memset((char *)dst + ksize, 0, usize - ksize);
}
