/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT */
/*
 * p2pgem: a DRM render-node GEM driver that turns a PCI BAR into VRAM.
 *
 * Copyright (c) 2026 The p2pbuf authors
 *
 * Every ioctl structure is versioned by its size (the DRM core zero-extends
 * shorter structures from older userspace), has explicit padding, and every
 * flags, pad or reserved field must be zero or the ioctl fails with -EINVAL.
 * Handles that do not name a GEM object of the calling file give -ENOENT.
 * A handle of a dma-buf imported from another exporter works with WAIT and
 * COPY; the other buffer ioctls give -EOPNOTSUPP for it.
 */
#ifndef _UAPI_P2PGEM_DRM_H_
#define _UAPI_P2PGEM_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_P2PGEM_GEM_CREATE		0x00
#define DRM_P2PGEM_GEM_MMAP_OFFSET	0x01
#define DRM_P2PGEM_GEM_INFO		0x02
#define DRM_P2PGEM_GEM_WAIT		0x03
#define DRM_P2PGEM_DEVICE_INFO		0x04
#define DRM_P2PGEM_GEM_EVICT		0x05
#define DRM_P2PGEM_GEM_P2P_QUERY	0x06
#define DRM_P2PGEM_GEM_COPY		0x07

/* Placements: where a buffer object may live. */
/* VRAM only; evicted to system memory under pressure. */
#define P2PGEM_PLACEMENT_VRAM		1
/* system memory pages only. */
#define P2PGEM_PLACEMENT_SYSTEM		2
/* VRAM if free, else system memory. */
#define P2PGEM_PLACEMENT_VRAM_PREFERRED	3

/* Creation flags. */
/* one physically contiguous VRAM range. */
#define P2PGEM_CREATE_CONTIGUOUS	(1u << 0)
/* place in the CPU-visible window from the start. */
#define P2PGEM_CREATE_CPU_ACCESS	(1u << 1)
#define P2PGEM_CREATE_FLAGS		(P2PGEM_CREATE_CONTIGUOUS | \
					 P2PGEM_CREATE_CPU_ACCESS)

/**
 * struct drm_p2pgem_gem_create - create a buffer object
 *
 * Errors: -EINVAL for a zero size, an unknown placement, unknown flags,
 * flags that do not apply to the placement (CONTIGUOUS and CPU_ACCESS need a
 * VRAM placement) or a non-zero @pad; -E2BIG for a size that can never be
 * placed (larger than VRAM for %P2PGEM_PLACEMENT_VRAM, larger than the
 * rounded-up power of two of VRAM for contiguous buffers, larger than the
 * system memory of the machine, or overflowing when rounded up to pages);
 * -ENOMEM when the memory cannot be found right now.
 */
struct drm_p2pgem_gem_create {
	/** @size: in: size in bytes, rounded up to the page size. */
	__u64 size;
	/** @placement: in: one of the P2PGEM_PLACEMENT_* values. */
	__u32 placement;
	/** @flags: in: P2PGEM_CREATE_* flags. */
	__u32 flags;
	/** @handle: out: the GEM handle of the new buffer object. */
	__u32 handle;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_p2pgem_gem_mmap_offset - the fake offset to mmap a buffer
 *
 * mmap() the DRM file at @offset to map the buffer object for the CPU.
 * Pages are faulted in through TTM: VRAM is mapped write-combined and a
 * buffer object outside the CPU-visible window is moved into it (or to
 * system memory) first. The mapping must be shared (MAP_SHARED).
 */
struct drm_p2pgem_gem_mmap_offset {
	/** @handle: in: the GEM handle. */
	__u32 handle;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @offset: out: the offset to pass to mmap(). */
	__u64 offset;
};

/**
 * struct drm_p2pgem_gem_info - where a buffer object is now
 */
struct drm_p2pgem_gem_info {
	/** @handle: in: the GEM handle. */
	__u32 handle;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @size: out: size in bytes. */
	__u64 size;
	/**
	 * @move_count: out: moves with a copy so far (evictions, returns to
	 * VRAM, moves into the visible window); placing a new buffer object
	 * is not counted.
	 */
	__u64 move_count;
	/** @placement: out: P2PGEM_PLACEMENT_VRAM or P2PGEM_PLACEMENT_SYSTEM. */
	__u32 placement;
	/** @requested_placement: out: the placement given at creation. */
	__u32 requested_placement;
	/** @create_flags: out: the flags given at creation. */
	__u32 create_flags;
	/** @pin_count: out: pins held (a pinned buffer object never moves). */
	__u32 pin_count;
	/** @attachments: out: dma-buf attachments of the exported buffer. */
	__u32 attachments;
	/** @cpu_visible: out: 1 if in VRAM and entirely in the visible window. */
	__u32 cpu_visible;
};

/**
 * struct drm_p2pgem_gem_wait - wait until a buffer object is idle
 *
 * Waits for every fence of the buffer object (its pending moves).
 * Returns 0 when idle, -EBUSY when @timeout_ns is 0 and the buffer object
 * is busy, -ETIME when the timeout expired, -EINVAL for a negative timeout.
 */
struct drm_p2pgem_gem_wait {
	/** @handle: in: the GEM handle. */
	__u32 handle;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @timeout_ns: in: relative timeout in nanoseconds, 0 to poll. */
	__s64 timeout_ns;
};

/**
 * struct drm_p2pgem_device_info - the VRAM heap of the device
 */
struct drm_p2pgem_device_info {
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @pad: must be zero. */
	__u32 pad;
	/** @vram_size: out: bytes of VRAM managed. */
	__u64 vram_size;
	/** @visible_size: out: bytes of the CPU-visible window (from 0). */
	__u64 visible_size;
	/** @vram_used: out: bytes of VRAM allocated now. */
	__u64 vram_used;
	/** @visible_used: out: bytes of the visible window allocated now. */
	__u64 visible_used;
	/** @evictions: out: moves from VRAM to system memory so far. */
	__u64 evictions;
	/** @moves: out: moves with a copy so far, all kinds. */
	__u64 moves;
	/**
	 * @pin_quota: out: bytes of VRAM that dma-buf importers may keep
	 * pinned (module parameter pin_quota_mb); past it, pins place the
	 * buffer in system memory.
	 */
	__u64 pin_quota;
	/**
	 * @pinned_vram: out: bytes of VRAM pinned by importers now; on a
	 * kernel without CONFIG_DMABUF_MOVE_NOTIFY also by the dma-buf core,
	 * which pins a buffer while a dynamic importer has it mapped.
	 */
	__u64 pinned_vram;
};

/**
 * struct drm_p2pgem_gem_evict - move a buffer object to system memory
 *
 * For tests: the move is queued on the copy engine and the ioctl returns
 * without waiting for it; CPU mappings fault the buffer object back.
 * Returns -EBUSY for a pinned buffer object, 0 when already in system memory.
 */
struct drm_p2pgem_gem_evict {
	/** @handle: in: the GEM handle. */
	__u32 handle;
	/** @flags: in: must be zero. */
	__u32 flags;
};

/* Answers of DRM_IOCTL_P2PGEM_GEM_P2P_QUERY (drm_p2pgem_gem_p2p_query.reason). */
/* the PCI function would get the buffer's VRAM, peer-to-peer. */
#define P2PGEM_P2P_OK			0
/* pci_p2pdma_distance() < 0 below a common bridge: ACS redirects. */
#define P2PGEM_P2P_ACS_REDIRECT		3
/* pci_p2pdma_distance() < 0 through a host bridge not whitelisted. */
#define P2PGEM_P2P_HOST_BRIDGE		4
/* the kernel is built without CONFIG_PCI_P2PDMA: no peer gets VRAM. */
#define P2PGEM_P2P_NO_P2PDMA		6
/* the buffer object was created for system memory. */
#define P2PGEM_P2P_SYSTEM_PLACEMENT	16
/* the buffer object is pinned in system memory for another importer. */
#define P2PGEM_P2P_PINNED_SYSTEM	17
/* larger than the CPU-visible window, the part of VRAM the bus reaches. */
#define P2PGEM_P2P_TOO_BIG		18

/* drm_p2pgem_gem_p2p_query.flags: @handle is a dma-buf file descriptor. */
#define P2PGEM_P2P_QUERY_DMABUF_FD	(1u << 0)

/**
 * struct drm_p2pgem_gem_p2p_query - can a PCI function reach a buffer P2P?
 *
 * Asks whether a dynamic importer that allows peer2peer, attaching for the
 * PCI function @domain:@bus:@devfn, would get the buffer object's VRAM
 * peer-to-peer, and if not, why. The answer is the decision p2pgem's
 * dma-buf export takes at attach (see Documentation/dma-buf-p2p.rst),
 * plus what the buffer object's own state rules out. A mapping can still
 * be refused by the DMA API (dma-map-refused), which only a map tells.
 *
 * With P2PGEM_P2P_QUERY_DMABUF_FD in @flags, @handle is a dma-buf file
 * descriptor instead: the question is then about the buffer object that
 * dma-buf exports, asked without importing it (nothing attaches, nothing
 * moves), and answered only by the device that exported it. This is how a
 * process holding a dma-buf of unknown origin finds its p2pgem device.
 *
 * Errors: -EINVAL for unknown @flags, non-zero @pad, @bus above 255 or
 * @devfn above 255; -ENOENT for a bad handle; with
 * P2PGEM_P2P_QUERY_DMABUF_FD, -EBADF for a bad descriptor, -EINVAL for a
 * file that is not a dma-buf and -ENOENT for a dma-buf another exporter
 * (another p2pgem device included) exported; -ENODEV when there is no such
 * PCI function.
 */
struct drm_p2pgem_gem_p2p_query {
	/** @handle: in: the GEM handle, or a dma-buf fd (see @flags). */
	__u32 handle;
	/** @flags: in: 0 or P2PGEM_P2P_QUERY_DMABUF_FD. */
	__u32 flags;
	/** @domain: in: PCI domain (segment) of the importing function. */
	__u32 domain;
	/** @bus: in: its bus number. */
	__u32 bus;
	/** @devfn: in: its device and function, (device << 3) | function. */
	__u32 devfn;
	/** @reason: out: one of the P2PGEM_P2P_* answers. */
	__u32 reason;
	/** @distance: out: pci_p2pdma_distance() from this device, or -1. */
	__s32 distance;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_p2pgem_gem_copy - copy pages between two buffers
 *
 * Queues a copy on the device's copy engine and returns without waiting
 * for it. Either handle may name a buffer object of this device or a
 * dma-buf imported with DRM_IOCTL_PRIME_FD_TO_HANDLE from another exporter:
 * another p2pgem device (a device-to-device copy), vgem, udmabuf, ... The
 * copy waits for every fence of the destination and for the writers of
 * the source, and its fence is added to the destination as a write and to
 * the source as a read: wait with DRM_IOCTL_P2PGEM_GEM_WAIT or poll the
 * dma-buf.
 *
 * Errors: -EINVAL for non-zero @flags or @pad, a zero @size, offsets or
 * size that are not multiples of the page size, ranges outside the
 * buffers, or overlapping ranges in one buffer; -ENOENT for a bad handle;
 * -EOPNOTSUPP for an imported dma-buf whose mapping for this device is
 * neither a p2pgem device's memory nor ordinary system memory; an error
 * of the exporter's map for an imported dma-buf (-ENODEV once that
 * exporter's device is gone).
 */
struct drm_p2pgem_gem_copy {
	/** @src_handle: in: the GEM handle to copy from. */
	__u32 src_handle;
	/** @dst_handle: in: the GEM handle to copy to. */
	__u32 dst_handle;
	/** @src_offset: in: byte offset in the source, page aligned. */
	__u64 src_offset;
	/** @dst_offset: in: byte offset in the destination, page aligned. */
	__u64 dst_offset;
	/** @size: in: bytes to copy, page aligned, not zero. */
	__u64 size;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @pad: must be zero. */
	__u32 pad;
};

#define DRM_IOCTL_P2PGEM_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGEM_GEM_CREATE, \
		 struct drm_p2pgem_gem_create)
#define DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGEM_GEM_MMAP_OFFSET, \
		 struct drm_p2pgem_gem_mmap_offset)
#define DRM_IOCTL_P2PGEM_GEM_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGEM_GEM_INFO, \
		 struct drm_p2pgem_gem_info)
#define DRM_IOCTL_P2PGEM_GEM_WAIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_P2PGEM_GEM_WAIT, \
		struct drm_p2pgem_gem_wait)
#define DRM_IOCTL_P2PGEM_DEVICE_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGEM_DEVICE_INFO, \
		 struct drm_p2pgem_device_info)
#define DRM_IOCTL_P2PGEM_GEM_EVICT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_P2PGEM_GEM_EVICT, \
		struct drm_p2pgem_gem_evict)
#define DRM_IOCTL_P2PGEM_GEM_P2P_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_P2PGEM_GEM_P2P_QUERY, \
		 struct drm_p2pgem_gem_p2p_query)
#define DRM_IOCTL_P2PGEM_GEM_COPY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_P2PGEM_GEM_COPY, \
		struct drm_p2pgem_gem_copy)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_P2PGEM_DRM_H_ */
