/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT */
/*
 * p2pbuf_oddexp: the ioctl interface of the test-only module
 * tests/oddexp/p2pbuf_oddexp.ko (/dev/p2pbuf_oddexp), shared by the module
 * and the tests.
 *
 * EXPORT makes a dma-buf of any size, also one that is not a multiple of
 * the page size, backed by system pages or by the P2P memory of a PCI
 * function that registered some (an NVMe controller memory buffer); its
 * mappings are made with dma_map_sgtable() for the attaching device.
 * VMAP holds a dma_buf_vmap() of any dma-buf until VUNMAP or close, so that
 * a test can order a vmap against pins and unpins. VMAP_PROBE calls the
 * exporter's vmap and vunmap directly, for buffers whose vmap is expected
 * to fail: 6.1's dma_buf_vmap() WARNs on every exporter error. STATUS
 * counts what the module holds, so that a test can see nothing leaked.
 * Every field is checked: unknown flags and non-zero padding give -EINVAL.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PBUF_ODDEXP_H_
#define _P2PBUF_ODDEXP_H_

#include <linux/ioctl.h>
#include <linux/types.h>

/* p2pbuf_oddexp_export.flags: P2P memory of @provider, not system pages */
#define P2PBUF_ODDEXP_P2P	0x1

/* Largest buffer EXPORT makes. */
#define P2PBUF_ODDEXP_MAX_SIZE	(16u << 20)

/**
 * struct p2pbuf_oddexp_export - make a dma-buf
 * @size: in: bytes, 1 to P2PBUF_ODDEXP_MAX_SIZE, any value
 * @flags: in: 0 or P2PBUF_ODDEXP_P2P
 * @fd: out: the dma-buf, close-on-exec
 * @provider: in, with P2PBUF_ODDEXP_P2P: the PCI function whose P2P memory
 *	backs the buffer, as named in /sys/bus/pci/devices, NUL terminated
 *
 * Only importers that allow peer2peer may attach to a P2P buffer. Errors:
 * -EINVAL, -ENODEV (no such function), -ENOMEM (no P2P memory left).
 */
struct p2pbuf_oddexp_export {
	__u64 size;
	__u32 flags;
	__s32 fd;
	char provider[32];
};

/**
 * struct p2pbuf_oddexp_vmap - hold a kernel CPU mapping of a dma-buf
 * @fd: in: the dma-buf
 * @length: in: bytes to copy from the start of the mapping to @data,
 *	0 to 4096, not beyond the buffer
 * @data: in: user pointer
 * @id: out: for VUNMAP
 * @pad: in: must be zero
 *
 * Errors: -EINVAL, -EBADF, -EFAULT, -EMFILE (64 held), or the exporter's
 * vmap error.
 */
struct p2pbuf_oddexp_vmap {
	__s32 fd;
	__u32 length;
	__u64 data;
	__u32 id;
	__u32 pad;
};

/**
 * struct p2pbuf_oddexp_status - what the module holds now
 * @buffers: dma-bufs exported and not yet released
 * @attachments: attachments to them
 * @mappings: their mappings
 * @vmaps: vmaps held by this file
 */
struct p2pbuf_oddexp_status {
	__u32 buffers;
	__u32 attachments;
	__u32 mappings;
	__u32 vmaps;
};

#define P2PBUF_ODDEXP_IOCTL_EXPORT	_IOWR('o', 0x50, struct p2pbuf_oddexp_export)
#define P2PBUF_ODDEXP_IOCTL_VMAP	_IOWR('o', 0x51, struct p2pbuf_oddexp_vmap)
/* The argument is the id VMAP returned. */
#define P2PBUF_ODDEXP_IOCTL_VUNMAP	_IO('o', 0x52)
/* vmap and vunmap at once through the exporter's ops; @id stays 0. */
#define P2PBUF_ODDEXP_IOCTL_VMAP_PROBE	_IOWR('o', 0x53, struct p2pbuf_oddexp_vmap)
#define P2PBUF_ODDEXP_IOCTL_STATUS	_IOR('o', 0x54, struct p2pbuf_oddexp_status)

#endif /* _P2PBUF_ODDEXP_H_ */
