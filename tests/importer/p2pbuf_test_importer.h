/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT */
/*
 * p2pbuf_test_importer: the ioctl interface of the test-only importer
 * module (/dev/p2pbuf_test_importer), shared by the module and the tests.
 *
 * Each open file is one importer: ATTACH a dma-buf fd on behalf of a PCI
 * function, MAP to see the addresses that function got (and how many
 * move_notify calls and re-maps happened so far), STATUS for those counters
 * without mapping, DMA to have QEMU's edu device copy bytes into or out of
 * the buffer, DETACH (or close); CPU reads or writes any dma-buf through
 * dma_buf_vmap(), as an in-kernel CPU user would; MAP_BENCH times the
 * attach, map, unmap and detach of any dma-buf for any PCI function.
 * Every ioctl validates every field: unknown modes or flags and non-zero
 * padding give -EINVAL.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PBUF_TEST_IMPORTER_H_
#define _P2PBUF_TEST_IMPORTER_H_

#include <linux/ioctl.h>
#include <linux/types.h>

/* Importer kinds (p2pbuf_ti_attach.mode). */
#define P2PBUF_TI_STATIC	0	/* dma_buf_attach: pinned, mapped once */
#define P2PBUF_TI_DYNAMIC	1	/* dynamic, allow_peer2peer false */
#define P2PBUF_TI_DYNAMIC_P2P	2	/* dynamic, allow_peer2peer true */

/* p2pbuf_ti_attach.flags */
#define P2PBUF_TI_ATTACH_PIN	0x1	/* dynamic only: dma_buf_pin */
/*
 * Implicit synchronisation: each DMA waits for the buffer's writers before
 * it reads the buffer, for its readers and writers before it writes it
 * (P2PBUF_IMPORT_IMPLICIT_SYNC). Without it a DMA waits only for the
 * exporter's moves. (0x2 stays unused: older tests use it as the unknown
 * flag.)
 */
#define P2PBUF_TI_ATTACH_IMPLICIT_SYNC	0x4

/**
 * struct p2pbuf_ti_attach - attach to a dma-buf for a PCI function
 * @fd: the dma-buf
 * @mode: P2PBUF_TI_STATIC, P2PBUF_TI_DYNAMIC or P2PBUF_TI_DYNAMIC_P2P
 * @flags: P2PBUF_TI_ATTACH_* flags
 * @pad: must be zero
 * @device: the PCI function, as named in /sys/bus/pci/devices, NUL
 *	terminated
 *
 * Errors: -EINVAL (bad mode, flags, pad, or a fd that is not a dma-buf),
 * -EBADF, -ENODEV (no such PCI function), -EBUSY (already attached), or the
 * exporter's attach, map (static) or pin error.
 *
 * When the edu device the file is attached for goes away (unbind, PCI
 * hot removal), the importer is detached and every ioctl of the file
 * fails with -ENODEV from then on; close it and open a new one.
 */
struct p2pbuf_ti_attach {
	__s32 fd;
	__u32 mode;
	__u32 flags;
	__u32 pad;
	char device[32];
};

/* p2pbuf_ti_entry.flags */
#define P2PBUF_TI_BUS_ADDRESS	0x1	/* a PCI bus address (P2P) */

/**
 * struct p2pbuf_ti_entry - one DMA segment of the mapping
 * @dma_address: the address the importer device uses
 * @length: bytes
 * @flags: P2PBUF_TI_BUS_ADDRESS
 * @pad: zero
 */
struct p2pbuf_ti_entry {
	__u64 dma_address;
	__u64 length;
	__u32 flags;
	__u32 pad;
};

/**
 * struct p2pbuf_ti_map - map (or re-map) and report the mapping
 * @entries: in: user pointer to an array of struct p2pbuf_ti_entry
 * @max_entries: in: entries the array holds (may be 0)
 * @nents: out: DMA segments of the mapping (may exceed @max_entries)
 * @move_notifies: out: move_notify calls received so far
 * @maps: out: mappings made so far (first map and re-maps)
 * @flags: in: must be zero
 *
 * Maps as an importer must: under the reservation lock, then waits for the
 * exporter's kernel fences. Errors: -EINVAL, -ENOENT (not attached),
 * -EFAULT, or the exporter's map error.
 */
struct p2pbuf_ti_map {
	__u64 entries;
	__u32 max_entries;
	__u32 nents;
	__u32 move_notifies;
	__u32 maps;
	__u32 flags;
	__u32 pad;
};

/* p2pbuf_ti_dma.flags: exactly one direction */
#define P2PBUF_TI_DMA_TO_BUFFER		0x1	/* device writes it */
#define P2PBUF_TI_DMA_FROM_BUFFER	0x2	/* device reads it */

/* Half the edu device's 4 KiB buffer: QEMU 7.2 refuses a DMA that ends at its end. */
#define P2PBUF_TI_DMA_MAX	2048

/**
 * struct p2pbuf_ti_dma - have the edu device DMA into or out of the buffer
 * @data: in: user pointer to @length bytes (the source for TO_BUFFER, the
 *	destination for FROM_BUFFER)
 * @offset: in: byte offset in the dma-buf
 * @length: in: bytes, 1 to P2PBUF_TI_DMA_MAX
 * @flags: in: P2PBUF_TI_DMA_TO_BUFFER or P2PBUF_TI_DMA_FROM_BUFFER
 *
 * TO_BUFFER is asynchronous: the ioctl returns once the DMA is queued and
 * published as a write fence in the dma-buf's reservation object (wait for
 * it with poll or DMA_BUF_IOCTL_EXPORT_SYNC_FILE). FROM_BUFFER returns
 * when the bytes are in @data (interruptibly: a signal before that gives
 * -ERESTARTSYS or -EINTR, and the DMA still runs). With
 * P2PBUF_TI_ATTACH_IMPLICIT_SYNC the DMA first waits for the fences of
 * implicit synchronisation, outside the ioctl. Errors: -EINVAL (flags,
 * range), -ENOENT (not attached), -EOPNOTSUPP (the attached function is not
 * an edu device), -EFAULT, -ETIMEDOUT (the device did not finish), -ENODEV
 * (the edu device went away, also for a DMA cancelled by that), the error
 * of a fence waited for, or the map error.
 */
struct p2pbuf_ti_dma {
	__u64 data;
	__u64 offset;
	__u32 length;
	__u32 flags;
};

/**
 * struct p2pbuf_ti_status - the importer's counters, without mapping
 * @move_notifies: out: move_notify calls received so far
 * @maps: out: mappings made so far
 * @mapped: out: 1 when the importer holds a mapping now
 * @pad: out: zero
 *
 * Errors: -ENOENT (not attached).
 */
struct p2pbuf_ti_status {
	__u32 move_notifies;
	__u32 maps;
	__u32 mapped;
	__u32 pad;
};

/* p2pbuf_ti_cpu.flags: exactly one */
#define P2PBUF_TI_CPU_READ	0x1
#define P2PBUF_TI_CPU_WRITE	0x2

#define P2PBUF_TI_CPU_MAX	0x100000

/**
 * struct p2pbuf_ti_cpu - kernel CPU access through dma_buf_vmap()
 * @data: in: user pointer to @length bytes
 * @offset: in: byte offset in the dma-buf
 * @length: in: bytes, 1 to P2PBUF_TI_CPU_MAX
 * @flags: in: P2PBUF_TI_CPU_READ or P2PBUF_TI_CPU_WRITE
 * @fd: in: the dma-buf
 * @pad: in: must be zero
 *
 * Needs no attachment: vmaps the dma-buf given by @fd, brackets the copy
 * with dma_buf_begin_cpu_access()/dma_buf_end_cpu_access() and vunmaps.
 * Errors: -EINVAL (flags, range, not a dma-buf), -EBADF, -EFAULT, or the
 * exporter's vmap error.
 */
struct p2pbuf_ti_cpu {
	__u64 data;
	__u64 offset;
	__u32 length;
	__u32 flags;
	__s32 fd;
	__u32 pad;
};

/* The most map+unmap cycles one P2PBUF_TI_IOCTL_MAP_BENCH runs. */
#define P2PBUF_TI_BENCH_MAX_ITERATIONS	1024

/**
 * struct p2pbuf_ti_map_bench - time dma-buf attach, map, unmap, detach
 * @fd: in: the dma-buf
 * @iterations: in: cycles to run, 1 to P2PBUF_TI_BENCH_MAX_ITERATIONS
 * @device: in: the PCI function to map for, as in struct p2pbuf_ti_attach
 * @flags: in: must be zero
 * @pad: in: must be zero
 * @ns: out: nanoseconds the cycles took, all of them
 * @min_ns: out: nanoseconds of the fastest cycle
 * @nents: out: DMA segments of the last mapping
 * @map_flags: out: P2PBUF_TI_BUS_ADDRESS when its first segment is a PCI
 *	bus address (the function reaches the memory peer-to-peer)
 *
 * For the benchmarks (tests/bench): each cycle attaches a dynamic importer
 * that allows peer2peer for @device, maps the whole buffer
 * (DMA_BIDIRECTIONAL) under the reservation lock, unmaps it and detaches.
 * An exporter that is not dynamic (udmabuf) maps at attach and unmaps at
 * detach, so a cycle times the same work for every exporter. Needs no
 * attachment of the file. Errors: -EINVAL (flags, pad, iterations, device
 * name, not a dma-buf), -EBADF, -ENODEV (no such PCI function), -EINTR (a
 * signal between cycles), or the exporter's attach or map error.
 */
struct p2pbuf_ti_map_bench {
	__s32 fd;
	__u32 iterations;
	char device[32];
	__u32 flags;
	__u32 pad;
	__u64 ns;
	__u64 min_ns;
	__u32 nents;
	__u32 map_flags;
	__u32 max_seg;
	__u32 pad2;
};

#define P2PBUF_TI_IOCTL_ATTACH	_IOW('p', 0x40, struct p2pbuf_ti_attach)
#define P2PBUF_TI_IOCTL_MAP	_IOWR('p', 0x41, struct p2pbuf_ti_map)
#define P2PBUF_TI_IOCTL_DETACH	_IO('p', 0x42)
#define P2PBUF_TI_IOCTL_DMA	_IOW('p', 0x43, struct p2pbuf_ti_dma)
#define P2PBUF_TI_IOCTL_STATUS	_IOR('p', 0x44, struct p2pbuf_ti_status)
#define P2PBUF_TI_IOCTL_CPU	_IOW('p', 0x45, struct p2pbuf_ti_cpu)
#define P2PBUF_TI_IOCTL_MAP_BENCH	_IOWR('p', 0x46, struct p2pbuf_ti_map_bench)

#endif /* _P2PBUF_TEST_IMPORTER_H_ */
