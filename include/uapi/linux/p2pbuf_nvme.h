/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pbuf_nvme: block I/O straight between a block device and a dma-buf.
 *
 * /dev/p2pbuf_nvme. A binding ties a dma-buf to a block device (an NVMe
 * namespace, or any other) or to a file on one; an I/O moves bytes between
 * a range of the buffer and a range of the device or file, by the device's
 * own DMA into the
 * buffer's memory where it is: another device's VRAM (peer to peer) or
 * system memory. Bindings belong to the open file; closing it cancels its
 * I/Os that have not started and waits for those that have.
 *
 * Every ioctl rejects unknown flags and non-zero reserved fields with
 * EINVAL. Documentation/nvme-importer.rst describes the design.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _UAPI_LINUX_P2PBUF_NVME_H
#define _UAPI_LINUX_P2PBUF_NVME_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* P2PBUF_NVME_IOC_BIND flags */
/* Order each I/O after the buffer's other users (implicit sync). */
#define P2PBUF_NVME_BIND_IMPLICIT_SYNC	(1u << 0)

/* struct p2pbuf_nvme_bind.p2p: what the block device's queue can do */
#define P2PBUF_NVME_QUEUE_NO_P2P	0	/* system memory only */
#define P2PBUF_NVME_QUEUE_P2P		1	/* QUEUE_FLAG_PCI_P2PDMA */
/* The exporter gives no pages but has vmap: the binding's own pages and a copy */
#define P2PBUF_NVME_BOUNCE		2

/**
 * struct p2pbuf_nvme_bind - P2PBUF_NVME_IOC_BIND
 * @dmabuf_fd: in: the dma-buf; an I/O into it needs the dma-buf's file
 *	open for writing (a PRIME export with DRM_RDWR; DRM gives every
 *	later export of a buffer the same file, so its first export counts);
 *	its exporter gives importers its pages (as p2pgem does), or has a
 *	CPU mapping (vmap) that needs no CPU access bracket, for the bounce
 *	path (EOPNOTSUPP otherwise)
 * @fd: in: a block device, or a regular file on a filesystem with direct
 *	I/O on a block device (ext4, xfs, ...); opened for reading to read it
 *	into the buffer and for writing to write the buffer to it
 * @flags: in: P2PBUF_NVME_BIND_*
 * @handle: out: the binding, for P2PBUF_NVME_IOC_IO and _UNBIND
 * @p2p: out: P2PBUF_NVME_QUEUE_*; with P2PBUF_NVME_QUEUE_P2P the dma-buf
 *	is attached for the PCI function behind the device, allowing
 *	peer-to-peer; P2PBUF_NVME_BOUNCE when the exporter gives no pages:
 *	the buffer is not attached, each I/O goes through pages of the
 *	module's own and a CPU copy through the buffer's vmap
 * @pad: must be zero
 * @reserved: must be zero
 */
struct p2pbuf_nvme_bind {
	__s32 dmabuf_fd;
	__s32 fd;
	__u32 flags;
	__u32 handle;
	__u32 p2p;
	__u32 pad;
	__u64 reserved[2];
};

/* struct p2pbuf_nvme_io.op */
#define P2PBUF_NVME_READ	0	/* device -> buffer */
#define P2PBUF_NVME_WRITE	1	/* buffer -> device */

/* struct p2pbuf_nvme_io.flags */
/* Return once queued, with a sync_file in out_fence_fd. */
#define P2PBUF_NVME_IO_ASYNC	(1u << 0)
/* in_fence_fd is a sync_file to wait for; without the flag it must be 0. */
#define P2PBUF_NVME_IO_IN_FENCE	(1u << 1)
/* dmabuf_fd names the binding's dma-buf; without the flag it must be 0. */
#define P2PBUF_NVME_IO_DMABUF_FD	(1u << 2)

/* struct p2pbuf_nvme_io.path: how the device's DMA reached the buffer */
#define P2PBUF_NVME_PATH_P2P		1	/* the exporter's device memory */
#define P2PBUF_NVME_PATH_DIRECT_SYSTEM	2	/* the buffer's system pages */
#define P2PBUF_NVME_PATH_BOUNCE		3	/* pages of the module's, CPU copy */

/**
 * struct p2pbuf_nvme_io - P2PBUF_NVME_IOC_IO
 * @handle: in: the binding
 * @op: in: P2PBUF_NVME_READ or P2PBUF_NVME_WRITE
 * @buf_offset: in: bytes from the start of the buffer
 * @length: in: bytes, not zero
 * @dev_offset: in: bytes from the start of the block device or file
 * @in_fence_fd: in: with P2PBUF_NVME_IO_IN_FENCE, a sync_file the I/O
 *	waits for before it starts (at most the module's dep_timeout_ms, then
 *	it fails with ETIMEDOUT; an error of that fence fails it too)
 * @out_fence_fd: in: zero; out: with P2PBUF_NVME_IO_ASYNC, a sync_file of
 *	the I/O's fence (close it when done), else -1
 * @flags: in: P2PBUF_NVME_IO_*
 * @path: in: zero; out: P2PBUF_NVME_PATH_*
 * @cpu_bytes: in: zero; out: how many of the bytes the CPU moved instead
 *	of the device's DMA. For a file: the holes and unwritten extents of
 *	a read's range, which the filesystem gives as zeros (counted with
 *	SEEK_DATA and SEEK_HOLE on a file the module opens again for reading
 *	at BIND; when it cannot, no hole is counted); everything when the
 *	filesystem does no direct I/O on the file (ext4 with data=journal,
 *	inline data or verity) or not with this alignment (ext4's encrypted
 *	files), which goes through the page cache; a direct write ext4
 *	finished through its page cache (it could not drop cached pages of
 *	the range), all of it, as near as the module can tell. On the bounce
 *	path, everything (the copy). Without P2PBUF_NVME_IO_ASYNC it is
 *	counted as the I/O starts; with it, when it is queued (the file as it
 *	is then, without the page-cache fallback of writes). 0 on error
 * @dmabuf_fd: in: with P2PBUF_NVME_IO_DMABUF_FD, a file descriptor the
 *	caller takes for the binding's dma-buf. When it is open on another
 *	file the I/O fails with ESTALE, when it is not open with EBADF, and
 *	nothing is queued. For a caller that keeps its bindings by fd number
 *	(libp2pbuf): it learns that the number was closed and reused without
 *	an fstat(2) per I/O. Without the flag, zero
 * @reserved: must be zero
 *
 * @buf_offset, @length and @dev_offset are multiples of the device's
 * logical block size, and both ranges lie within the buffer and the
 * device (EINVAL); a read lies within the file, a write within the
 * filesystem's largest file size (EFBIG). The I/O's fence is in the
 * buffer's reservation object before the device starts (a write for
 * P2PBUF_NVME_READ, a read for P2PBUF_NVME_WRITE) and signals, in order
 * with the binding's other I/Os, once the device is done; with the error
 * of a failed I/O. Without
 * P2PBUF_NVME_IO_ASYNC the ioctl waits for it and returns that error;
 * once the I/O is queued only a fatal signal ends that wait early (EINTR,
 * the I/O goes on), and it is bounded by dep_timeout_ms and the device.
 * Before (the reservation lock, a move of the buffer the map waits for)
 * a signal ends the ioctl with EINTR and nothing queued. A binding has at
 * most the module's queue_depth I/Os unfinished; then EAGAIN.
 */
struct p2pbuf_nvme_io {
	__u32 handle;
	__u32 op;
	__u64 buf_offset;
	__u64 length;
	__u64 dev_offset;
	__s32 in_fence_fd;
	__s32 out_fence_fd;
	__u32 flags;
	__u32 path;
	__u64 cpu_bytes;
	__s32 dmabuf_fd;
	__u32 reserved;
};

/**
 * struct p2pbuf_nvme_unbind - P2PBUF_NVME_IOC_UNBIND
 * @handle: in: the binding; its I/Os are cancelled or waited for, and it
 *	    is detached from the dma-buf before the ioctl returns
 * @pad: must be zero
 */
struct p2pbuf_nvme_unbind {
	__u32 handle;
	__u32 pad;
};

/**
 * struct p2pbuf_nvme_uring_io - P2PBUF_NVME_IOC_IO through io_uring
 * @handle: in: the binding
 * @op: in: P2PBUF_NVME_READ or P2PBUF_NVME_WRITE
 * @buf_offset: in: as in struct p2pbuf_nvme_io
 * @length: in: as there
 * @dev_offset: in: as there
 * @in_fence_fd: in: with P2PBUF_NVME_IO_IN_FENCE, as there
 * @flags: in: P2PBUF_NVME_IO_IN_FENCE or 0
 * @reserved: must be zero
 *
 * The command of an IORING_OP_URING_CMD on /dev/p2pbuf_nvme, with cmd_op
 * P2PBUF_NVME_URING_IO, in the SQE's command area: the ring must be set up
 * with IORING_SETUP_SQE128 (EINVAL otherwise). The same checks and the
 * same fence as P2PBUF_NVME_IOC_IO; the completion comes when the fence
 * signals, with res the path (P2PBUF_NVME_PATH_*, > 0) or -errno; a ring
 * set up with IORING_SETUP_CQE32 gets the cpu_bytes of struct
 * p2pbuf_nvme_io, as counted for a synchronous I/O, in the CQE's
 * big_cqe[0]. The
 * command is queued from io_uring's workers, so in_fence_fd is looked up
 * there: keep it open until the completion.
 */
struct p2pbuf_nvme_uring_io {
	__u32 handle;
	__u32 op;
	__u64 buf_offset;
	__u64 length;
	__u64 dev_offset;
	__s32 in_fence_fd;
	__u32 flags;
	__u64 reserved[2];
};

#define P2PBUF_NVME_IOC_MAGIC	0xB2
#define P2PBUF_NVME_IOC_BIND	_IOWR(P2PBUF_NVME_IOC_MAGIC, 0x40, struct p2pbuf_nvme_bind)
#define P2PBUF_NVME_IOC_IO	_IOWR(P2PBUF_NVME_IOC_MAGIC, 0x41, struct p2pbuf_nvme_io)
#define P2PBUF_NVME_IOC_UNBIND	_IOW(P2PBUF_NVME_IOC_MAGIC, 0x42, struct p2pbuf_nvme_unbind)
/* io_uring's cmd_op, not an ioctl */
#define P2PBUF_NVME_URING_IO	_IOW(P2PBUF_NVME_IOC_MAGIC, 0x43, struct p2pbuf_nvme_uring_io)

#endif /* _UAPI_LINUX_P2PBUF_NVME_H */
