/* SPDX-License-Identifier: MIT */
/*
 * What tests/uapi/p2pbuf_vulkan (the exporter, on the host's userspace) and
 * tests/vulkan/vk-p2pbuf (the Vulkan side, in the trixie root) say to each
 * other over their SOCK_SEQPACKET socket, and the data they check.
 *
 * The buffer travels with p2pbuf_send()/p2pbuf_recv(); after that the
 * exporter sends one struct vkp_msg per step and the Vulkan side answers
 * each with one, status 0 or a negative errno and a text saying why.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef VK_PROTO_H
#define VK_PROTO_H

#include <stdint.h>

enum vkp_op {
	VKP_HELLO,		/* answer: caps in flags */
	VKP_WRITE,		/* the device writes seed's data, waits */
	VKP_READ,		/* the device copies it out, the CPU checks */
	VKP_WRITE_SYNC,		/* write after the buffer's fences, no wait */
	VKP_READ_SYNC,		/* read after the buffer's write fences */
	VKP_EXPORT,		/* Vulkan memory, written, sent as a dma-buf */
	VKP_COMPUTE,		/* fill.comp writes seed's words, waits */
	VKP_QUIT,
};

/* Capabilities of the Vulkan side (VKP_HELLO's answer flags). */
#define VKP_CAP_SYNC_FD		(1u << 0)	/* SYNC_FD semaphores */
#define VKP_CAP_EXPORT		(1u << 1)	/* dma-buf export */
#define VKP_CAP_COMPUTE		(1u << 2)	/* import as a storage buffer */

struct vkp_msg {
	uint32_t op;
	int32_t status;
	uint64_t seed;
	uint32_t flags;
	uint32_t pad;
	char text[240];
};

/*
 * The data of @seed in a buffer of @words 32-bit words: the first quarter
 * is one value (what vkCmdFillBuffer writes), the rest differs per word
 * (what vkCmdCopyBuffer brings from a staging buffer).
 */
static inline uint32_t vkp_fill(uint64_t seed)
{
	return (uint32_t)(seed * 2654435761u) ^ 0x5a5a5a5au;
}

static inline uint32_t vkp_word(uint64_t seed, uint64_t i, uint64_t words)
{
	uint64_t x;

	if (i < words / 4)
		return vkp_fill(seed);
	x = seed * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	return (uint32_t)x;
}

/* The first byte offset of @p (@bytes long) that is not @seed's, or -1. */
static inline long vkp_check(const volatile void *p, uint64_t bytes,
			     uint64_t seed)
{
	const volatile uint32_t *w = p;
	uint64_t i, n = bytes / 4;

	for (i = 0; i < n; i++)
		if (w[i] != vkp_word(seed, i, n))
			return (long)(i * 4);
	return -1;
}

static inline void vkp_fill_data(volatile void *p, uint64_t bytes,
				 uint64_t seed)
{
	volatile uint32_t *w = p;
	uint64_t i, n = bytes / 4;

	for (i = 0; i < n; i++)
		w[i] = vkp_word(seed, i, n);
}

/*
 * What the compute shader (tests/vulkan/fill.comp) writes into word @i
 * for @seed: a hash of both, in 32-bit arithmetic that GLSL has too, so
 * every word differs from its neighbours and a word written at the wrong
 * offset, or not at all, is seen. Keep it in step with fill.comp.
 */
static inline uint32_t vkp_cword(uint32_t seed, uint32_t i)
{
	uint32_t x = seed * 0x9e3779b9u + i * 0x85ebca6bu + 0x2545f491u;

	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* The first byte offset of @p (@bytes long) not fill.comp's, or -1. */
static inline long vkp_check_compute(const volatile void *p, uint64_t bytes,
				     uint32_t seed)
{
	const volatile uint32_t *w = p;
	uint64_t i, n = bytes / 4;

	for (i = 0; i < n; i++)
		if (w[i] != vkp_cword(seed, (uint32_t)i))
			return (long)(i * 4);
	return -1;
}

#endif
