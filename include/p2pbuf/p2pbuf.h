/* SPDX-License-Identifier: MIT */
/*
 * libp2pbuf: share PCIe device memory between devices and processes as
 * dma-bufs.
 *
 * Copyright (c) 2026 The p2pbuf authors
 *
 * Rules that hold for every function below:
 *  - it returns 0 on success or a negative errno value, and on failure it
 *    leaves its output arguments and the caller's file descriptors as they
 *    were (it never closes a descriptor it did not create);
 *  - it keeps no hidden global state and may be called from several threads
 *    at once; objects (struct p2pbuf_device) are safe to share between
 *    threads, plain structures are owned by the caller;
 *  - every descriptor it creates is close-on-exec;
 *  - pointer parameters it only reads are const.
 *
 * Structures the caller allocates (struct p2pbuf_meta, ...) start with
 * "uint32_t size", which the caller sets to sizeof() the structure it was
 * compiled with ({ .size = sizeof(x) }), and end with reserved space that
 * must be zero. So that fields can be added without a new symbol version:
 *  - a size below the structure's first version (1.0) is -EINVAL, above
 *    4096 -E2BIG;
 *  - a structure the library reads may be larger than the library knows
 *    (a newer caller): -E2BIG unless every byte past what it knows is
 *    zero, as the kernel's copy_struct_from_user(); a smaller one (an
 *    older caller) has its missing fields at their defaults (zero);
 *  - a structure the library fills gets exactly @size bytes written: the
 *    fields the library knows, zero past them; @size itself is kept;
 *  - in an array, every element is @size bytes apart, the first element's
 *    @size: the caller sets it in the first element of an array the
 *    library fills, and in every element (the same) of one it reads.
 *
 * The reference documentation is Documentation/libp2pbuf.rst; each function
 * has a kernel-doc-like comment here as well.
 */
#ifndef P2PBUF_P2PBUF_H
#define P2PBUF_P2PBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * P2PBUF_INIT_ARRAY() - zero @n structures at @arr and set each one's size
 *
 * For C and C++ alike; in C, "struct p2pbuf_meta m = { .size = sizeof(m) };"
 * does the same for one.
 */
#define P2PBUF_INIT_ARRAY(arr, n) do {					\
	for (size_t p2pbuf_i_ = 0; p2pbuf_i_ < (size_t)(n); p2pbuf_i_++) { \
		unsigned char *p2pbuf_p_ =				\
			(unsigned char *)&(arr)[p2pbuf_i_];		\
		for (size_t p2pbuf_j_ = 0; p2pbuf_j_ < sizeof((arr)[0]);	\
		     p2pbuf_j_++)					\
			p2pbuf_p_[p2pbuf_j_] = 0;			\
		(arr)[p2pbuf_i_].size = sizeof((arr)[0]);		\
	}								\
} while (0)

/** P2PBUF_INIT() - zero the structure @x and set its size */
#define P2PBUF_INIT(x) P2PBUF_INIT_ARRAY(&(x), 1)

/*
 * The version of this header. The library's soname is libp2pbuf.so.1 and
 * every function is versioned P2PBUF_1.0; 1.x adds functions (in a new
 * version node) and fields (at the end of a structure, see "size" above)
 * and never changes a released one.
 */
#define P2PBUF_VERSION_MAJOR 1
#define P2PBUF_VERSION_MINOR 0

/** P2PBUF_VERSION_AT_LEAST() - is this header at least version @major.@minor? */
#define P2PBUF_VERSION_AT_LEAST(major, minor) \
	(P2PBUF_VERSION_MAJOR > (major) || \
	 (P2PBUF_VERSION_MAJOR == (major) && P2PBUF_VERSION_MINOR >= (minor)))

/** P2PBUF_NAME_LEN - bytes of a dma-buf name, with its NUL (DMA_BUF_NAME_LEN). */
#define P2PBUF_NAME_LEN 32

/** P2PBUF_MAX_BUFFERS - most buffers p2pbuf_send() passes in one message. */
#define P2PBUF_MAX_BUFFERS 32

/*
 * Placements: where a buffer's memory lives. P2PBUF_PLACEMENT_ANY lets the
 * exporter choose (and move) it.
 */
enum p2pbuf_placement {
	P2PBUF_PLACEMENT_ANY = 0,
	P2PBUF_PLACEMENT_VRAM = 1,
	P2PBUF_PLACEMENT_SYSTEM = 2,
};

/* CPU access directions, for mapping, sync brackets and fences. */
#define P2PBUF_ACCESS_READ	(1u << 0)
#define P2PBUF_ACCESS_WRITE	(1u << 1)
#define P2PBUF_ACCESS_RW	(P2PBUF_ACCESS_READ | P2PBUF_ACCESS_WRITE)

/* ------------------------------------------------------------------ */
/* Version                                                              */
/* ------------------------------------------------------------------ */

/**
 * p2pbuf_version_major() - the major version of the library running
 *
 * Return: its P2PBUF_VERSION_MAJOR, which may differ from the header's a
 * program was built with.
 */
int p2pbuf_version_major(void);

/**
 * p2pbuf_version_minor() - the minor version of the library running
 *
 * Return: its P2PBUF_VERSION_MINOR.
 */
int p2pbuf_version_minor(void);

/**
 * p2pbuf_check_version() - does the library running provide @major.@minor?
 * @major: the major version a program needs
 * @minor: the minor version it needs (the functions and fields it uses)
 *
 * What io_uring_check_version() is to liburing, with this library's
 * return convention: a program built with a 1.2 header that may run on an
 * older 1.x library calls p2pbuf_check_version(1, 2) before it uses what
 * 1.2 added.
 * Return: 0 when the library's major version is @major and its minor is at
 * least @minor; -ENOTSUP when it is older or another major version;
 * -EINVAL for a negative @major or @minor.
 */
int p2pbuf_check_version(int major, int minor);

/* ------------------------------------------------------------------ */
/* dma-buf file descriptors                                             */
/* ------------------------------------------------------------------ */

/**
 * p2pbuf_dmabuf_check() - is @fd a dma-buf?
 * @fd: any file descriptor
 *
 * Return: 0 if @fd is a dma-buf, -EBADFD if it is an open descriptor of
 * another kind, -EBADF if it is not open.
 */
int p2pbuf_dmabuf_check(int fd);

/**
 * p2pbuf_dmabuf_size() - size of the buffer behind @fd, in bytes
 * @fd: a dma-buf (or any seekable file, for tests)
 * @size: the size, on success
 */
int p2pbuf_dmabuf_size(int fd, uint64_t *size);

/**
 * p2pbuf_udmabuf_create() - a dma-buf of system memory, from /dev/udmabuf
 * @size: bytes; rounded up to the page size
 * @fd: a new close-on-exec dma-buf, on success
 *
 * The memory is a sealed memfd that lives as long as the dma-buf. Needs no
 * DRM device: useful to test importers and buffer passing.
 * Return: -ENOENT when the kernel has no udmabuf (CONFIG_UDMABUF).
 */
int p2pbuf_udmabuf_create(uint64_t size, int *fd);

/**
 * p2pbuf_kernel_config() - a kernel configuration option
 * @path: a config file (plain or gzip), or NULL for the running kernel's
 *        (/proc/config.gz, then /boot/config-$(uname -r))
 * @option: the name without "CONFIG_", e.g. "PCI_P2PDMA": letters, digits
 *          and '_', at most 100 of them
 * @state: 1 when =y or =m, 0 when not set
 *
 * Return: -ENOENT when no configuration can be found, -EINVAL for an
 * option that is not a name.
 */
int p2pbuf_kernel_config(const char *path, const char *option, int *state);

/**
 * p2pbuf_dmabuf_set_name() - name a dma-buf (DMA_BUF_SET_NAME)
 * @fd: a dma-buf
 * @name: at most P2PBUF_NAME_LEN - 1 bytes; shown in /proc/PID/fdinfo, in
 *        /sys/kernel/debug/dma_buf/bufinfo and by `p2pbuf ls`
 *
 * Return: -ENAMETOOLONG for a longer name, -EBUSY if the buffer is attached
 * to a device on kernels that forbid renaming then.
 */
int p2pbuf_dmabuf_set_name(int fd, const char *name);

/**
 * p2pbuf_cpu_access_begin() - open a CPU access bracket (DMA_BUF_IOCTL_SYNC)
 * @fd: a dma-buf
 * @access: P2PBUF_ACCESS_READ and/or P2PBUF_ACCESS_WRITE
 *
 * Every CPU access to a mapping must sit between p2pbuf_cpu_access_begin()
 * and p2pbuf_cpu_access_end() with the same @access; the kernel waits for
 * device access and flushes caches there. Interrupted calls are restarted.
 */
int p2pbuf_cpu_access_begin(int fd, unsigned int access);

/** p2pbuf_cpu_access_end() - close the bracket p2pbuf_cpu_access_begin() opened. */
int p2pbuf_cpu_access_end(int fd, unsigned int access);

/**
 * struct p2pbuf_mapping - a CPU mapping of (part of) a dma-buf
 * @size: sizeof(struct p2pbuf_mapping), set by the caller
 * @access: access the mapping was made for
 * @addr: first byte of the mapped range
 * @length: bytes mapped
 * @fd: the dma-buf (not owned by the mapping)
 * @pad: zero
 * @reserved: zero
 */
struct p2pbuf_mapping {
	uint32_t size;
	uint32_t access;
	void *addr;
	size_t length;
	int32_t fd;
	uint32_t pad;
	uint64_t reserved[2];
};

/**
 * p2pbuf_mmap() - map a range of a dma-buf into the CPU's address space
 * @fd: a dma-buf
 * @offset: start of the range, a multiple of the page size
 * @length: bytes to map; 0 maps from @offset to the end of the buffer
 * @access: P2PBUF_ACCESS_READ and/or P2PBUF_ACCESS_WRITE
 * @map: the mapping, on success; the caller sets @map->size
 *
 * The mapping does not open a CPU access bracket; see p2pbuf_cpu_access_begin().
 * Return: -EINVAL for a misaligned offset or a range outside the buffer,
 * -EOVERFLOW when the range does not fit this machine's size_t (32-bit).
 */
int p2pbuf_mmap(int fd, uint64_t offset, uint64_t length, unsigned int access,
		struct p2pbuf_mapping *map);

/** p2pbuf_munmap() - undo p2pbuf_mmap(); @map is cleared but for its size. */
int p2pbuf_munmap(struct p2pbuf_mapping *map);

/* ------------------------------------------------------------------ */
/* Fences                                                               */
/* ------------------------------------------------------------------ */

/**
 * p2pbuf_fence_export() - the buffer's current fences as a sync_file
 * @fd: a dma-buf
 * @access: P2PBUF_ACCESS_READ: the fences a reader must wait for (writes);
 *          P2PBUF_ACCESS_WRITE: those a writer must wait for (all)
 * @sync_file: a new sync_file descriptor, on success; poll it for POLLIN or
 *             wait with p2pbuf_fence_wait()
 *
 * Uses DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux 6.0). Return: -ENOTTY when the
 * kernel lacks it.
 */
int p2pbuf_fence_export(int fd, unsigned int access, int *sync_file);

/**
 * p2pbuf_fence_import() - make the buffer's users wait for a sync_file
 * @fd: a dma-buf
 * @sync_file: a sync_file descriptor (not consumed)
 * @access: P2PBUF_ACCESS_WRITE: the fence is a write (readers and writers
 *          wait); P2PBUF_ACCESS_READ: a read (only writers wait)
 */
int p2pbuf_fence_import(int fd, int sync_file, unsigned int access);

/**
 * p2pbuf_fence_wait() - wait for a sync_file (or a dma-buf) to signal
 * @fd: a sync_file, or a dma-buf (then all its fences are waited for)
 * @timeout_ms: milliseconds to wait, 0 to poll once, negative for ever
 *
 * The wait ends at a deadline @timeout_ms after the call. It is not
 * restarted after a signal handler runs, as liburing's waits are not: the
 * caller sees -EINTR and decides (call again with what is left of its own
 * deadline, or give up), so a periodic signal cannot keep it waiting past
 * its timeout.
 * Return: 0 once signalled, -ETIME on timeout (also when a signal arrives
 * after the deadline), -EINTR when a signal handler ran before it.
 */
int p2pbuf_fence_wait(int fd, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Passing buffers between processes                                    */
/* ------------------------------------------------------------------ */

/**
 * struct p2pbuf_meta - what travels with each buffer in a message
 * @size: sizeof(struct p2pbuf_meta), set by the caller (not sent)
 * @placement: an enum p2pbuf_placement (informational)
 * @buf_size: bytes in the dma-buf; checked against the descriptor on both
 *            sides
 * @offset: start of the range the receiver should use
 * @length: bytes of that range; @offset + @length <= @buf_size, @length > 0
 * @cookie: the application's own value, passed through untouched
 * @flags: must be 0 in version 1 of the wire format
 * @pad: zero
 * @name: the buffer's name, NUL-terminated (may be empty)
 * @reserved: zero (not sent)
 */
struct p2pbuf_meta {
	uint32_t size;
	uint32_t placement;
	uint64_t buf_size;
	uint64_t offset;
	uint64_t length;
	uint64_t cookie;
	uint32_t flags;
	uint32_t pad;
	char name[P2PBUF_NAME_LEN];
	uint64_t reserved[2];
};

/*
 * The wire format (version 1): a 16-byte header, then one 72-byte entry per
 * buffer, little-endian; see Documentation/libp2pbuf.rst. This version
 * sends at most P2PBUF_WIRE_MAX_SIZE bytes; it receives entries of later
 * minor revisions too, up to 4096 bytes each.
 */
#define P2PBUF_WIRE_MAGIC	0x42503250u	/* "P2PB" */
#define P2PBUF_WIRE_VERSION	1
#define P2PBUF_WIRE_HEADER_SIZE	16
#define P2PBUF_WIRE_ENTRY_SIZE	72
#define P2PBUF_WIRE_MAX_SIZE \
	(P2PBUF_WIRE_HEADER_SIZE + P2PBUF_MAX_BUFFERS * P2PBUF_WIRE_ENTRY_SIZE)

/**
 * p2pbuf_meta_init() - fill @meta for the whole of the buffer @fd
 * @fd: a dma-buf
 * @meta: the caller sets @meta->size; filled with buf_size from the
 *        buffer, offset 0, length = buf_size, everything else 0
 */
int p2pbuf_meta_init(int fd, struct p2pbuf_meta *meta);

/**
 * p2pbuf_meta_validate() - check one entry as p2pbuf_send() would
 * @meta: the entry
 *
 * Return: -EINVAL for a range outside the buffer, unknown flags or
 * placement, an unterminated name, a bad @meta->size or non-zero reserved
 * fields; -E2BIG for a larger @meta->size with non-zero bytes past what
 * the library knows.
 */
int p2pbuf_meta_validate(const struct p2pbuf_meta *meta);

/**
 * p2pbuf_meta_encode() - write the wire form of @count entries
 * @meta: the entries, each @meta->size bytes apart
 * @count: 1 to P2PBUF_MAX_BUFFERS
 * @buf: destination
 * @len: bytes available at @buf
 * @used: bytes written, on success
 *
 * Return: -EINVAL for a bad entry or count, -ENOSPC if @len is too small.
 */
int p2pbuf_meta_encode(const struct p2pbuf_meta *meta, unsigned int count,
		       void *buf, size_t len, size_t *used);

/**
 * p2pbuf_meta_decode() - parse and validate a wire message
 * @buf: the bytes received
 * @len: how many
 * @meta: room for @max entries, each @meta[0].size bytes (set by the
 *        caller) apart
 * @max: capacity of @meta
 * @count: entries decoded, on success
 *
 * A message of a later minor revision (larger entries, up to 4096 bytes
 * and a multiple of 8) is accepted, its extra bytes ignored. Return: -EBADMSG for a bad magic, version, length,
 * count or entry; -ENOSPC if more than @max entries.
 */
int p2pbuf_meta_decode(const void *buf, size_t len, struct p2pbuf_meta *meta,
		       unsigned int max, unsigned int *count);

/* Flags of p2pbuf_send() and p2pbuf_recv(). */
/* Accept descriptors that are not dma-bufs (tests, memfd stand-ins). */
#define P2PBUF_XFER_ANY_FD	(1u << 0)
/* Do not block (MSG_DONTWAIT); -EAGAIN if nothing is there. */
#define P2PBUF_XFER_NONBLOCK	(1u << 1)

/**
 * p2pbuf_send() - pass buffers to the peer of a UNIX socket
 * @sock: a connected AF_UNIX socket of type SOCK_SEQPACKET or SOCK_DGRAM
 * @fds: the dma-bufs; they stay open in the caller
 * @meta: one entry per buffer (see p2pbuf_meta_init()), each @meta->size
 *        bytes apart
 * @count: 1 to P2PBUF_MAX_BUFFERS
 * @flags: P2PBUF_XFER_*
 *
 * One message carries the header and every descriptor (SCM_RIGHTS), so the
 * peer gets all of them or none. Never raises SIGPIPE. A blocking send is
 * not restarted after a signal handler runs: it fails with -EINTR and
 * nothing was sent, so a caller can stop waiting for a full socket.
 *
 * Return: -EBADFD if a descriptor is not a dma-buf, -EINVAL if an entry
 * does not match its buffer, -EPIPE if the peer is gone,
 * -ESOCKTNOSUPPORT for a stream socket, -EINTR if interrupted.
 */
int p2pbuf_send(int sock, const int *fds, const struct p2pbuf_meta *meta,
		unsigned int count, unsigned int flags);

/**
 * p2pbuf_recv() - receive buffers sent with p2pbuf_send()
 * @sock: the other end
 * @fds: room for @max descriptors; filled with close-on-exec dma-bufs
 * @meta: room for @max entries, each @meta[0].size bytes (set by the
 *        caller) apart
 * @max: capacity of @fds and @meta
 * @count: buffers received, on success
 * @flags: P2PBUF_XFER_*
 *
 * On any error every descriptor that arrived is closed, so nothing leaks:
 * a message that is consumed but rejected is gone. A message of a later
 * minor revision of the wire format (entries up to 4096 bytes) is
 * accepted, as p2pbuf_meta_decode() accepts it. A blocking receive is not
 * restarted after a signal handler runs: it fails with -EINTR and no
 * message was consumed.
 *
 * Return: -EINTR if interrupted,
 * -ECONNRESET when the peer closed the connection without sending,
 * -EMSGSIZE when the message or its control data was truncated,
 * -EBADMSG for a bad header or a header that does not match the descriptors
 * (their number or sizes), -EBADFD if a descriptor is not a dma-buf,
 * -ENOSPC if more than @max buffers came.
 */
int p2pbuf_recv(int sock, int *fds, struct p2pbuf_meta *meta,
		unsigned int max, unsigned int *count, unsigned int flags);

/**
 * p2pbuf_pidfd_getfd() - take a copy of another process's descriptor
 * @pid: the process
 * @remote_fd: its descriptor number
 * @flags: P2PBUF_XFER_ANY_FD to accept other things than dma-bufs
 * @fd: a new close-on-exec descriptor in this process, on success
 *
 * Uses pidfd_open() and pidfd_getfd() (Linux 5.6); needs ptrace rights over
 * @pid. Return: -EPERM without them, -ESRCH if @pid is gone, -EBADF if it
 * has no @remote_fd, -EBADFD if that is not a dma-buf.
 */
int p2pbuf_pidfd_getfd(pid_t pid, int remote_fd, unsigned int flags, int *fd);

/* ------------------------------------------------------------------ */
/* Consumers                                                            */
/* ------------------------------------------------------------------ */

/**
 * struct p2pbuf_desc - a range of a buffer, as importers take it
 * @size: sizeof(struct p2pbuf_desc), set by the caller
 * @fd: the dma-buf
 * @offset: first byte of the range in the buffer
 * @length: bytes in the range
 * @iova: the address the consumer will use for the first byte (for
 *        ibv_reg_dmabuf_mr: the MR's virtual address; often @offset or 0)
 * @reserved: zero
 *
 * These are exactly the arguments of ibv_reg_dmabuf_mr(pd, offset, length,
 * iova, fd, access), libfabric's struct fi_mr_dmabuf and NCCL's regMrDmaBuf.
 */
struct p2pbuf_desc {
	uint32_t size;
	int32_t fd;
	uint64_t offset;
	uint64_t length;
	uint64_t iova;
	uint64_t reserved[2];
};

/**
 * p2pbuf_desc_init() - describe a range of @fd, checked against its size
 * @fd: the dma-buf
 * @offset: first byte of the range
 * @length: bytes; 0 means "to the end of the buffer"
 * @iova: the consumer's address of the first byte
 * @desc: the caller sets @desc->size; filled on success
 *
 * Return: -EINVAL if the range does not fit in the buffer.
 */
int p2pbuf_desc_init(int fd, uint64_t offset, uint64_t length, uint64_t iova,
		     struct p2pbuf_desc *desc);

/* ------------------------------------------------------------------ */
/* Devices and buffers                                                  */
/* ------------------------------------------------------------------ */

/**
 * struct p2pbuf_device_info - a DRM device that can export buffers
 * @size: sizeof(struct p2pbuf_device_info), set by the caller
 * @pad: zero
 * @driver: kernel driver ("p2pgem", "vgem", ...)
 * @primary_node: e.g. /dev/dri/card0, or empty
 * @render_node: e.g. /dev/dri/renderD128, or empty
 * @pci_address: "DDDD:BB:DD.F", or empty when not a PCI device
 * @vram_size: bytes of device memory (0 if unknown or none)
 * @visible_vram_size: bytes of it the CPU can reach (0 if unknown or none)
 * @reserved: zero
 */
struct p2pbuf_device_info {
	uint32_t size;
	uint32_t pad;
	char driver[32];
	char primary_node[64];
	char render_node[64];
	char pci_address[16];
	uint64_t vram_size;
	uint64_t visible_vram_size;
	uint64_t reserved[2];
};

/**
 * p2pbuf_device_list() - the DRM devices of this machine
 * @devs: room for @max entries, each @devs[0].size bytes (set by the
 *        caller) apart (may be NULL if @max is 0)
 * @max: capacity of @devs
 * @count: devices present (may be more than @max; only @max are filled)
 *
 * Found with libdrm's drmGetDevices2() and sysfs, which open no device.
 * Only a render node is ever opened, to ask the driver: of a device with
 * no kernel driver bound in sysfs (its DRM driver name), and of a p2pgem
 * device (its VRAM). Primary nodes are never opened: listing never makes
 * the caller DRM master, nor wakes a runtime-suspended GPU that sysfs
 * describes.
 *
 * Return: -ENODEV if the machine has no DRM devices.
 */
int p2pbuf_device_list(struct p2pbuf_device_info *devs, unsigned int max,
		       unsigned int *count);

struct p2pbuf_device;
struct p2pbuf_buffer;

/**
 * p2pbuf_device_open() - open a device
 * @name: a device node (/dev/dri/...), a PCI address ("0000:01:00.0" or
 *        "01:00.0") or a driver name ("vgem"); the first match is taken
 * @dev: the device, on success; close with p2pbuf_device_close()
 *
 * Opens the render node of the device wanted and no other node (the
 * primary node of a device that has no render node). A dumb buffer
 * (p2pbuf_buffer_alloc() on drivers other than p2pgem) can only be created
 * on the primary node: that one allocation opens it, and gives up DRM
 * master at once if opening it made the caller master.
 * Return: -ENODEV if nothing matches.
 */
int p2pbuf_device_open(const char *name, struct p2pbuf_device **dev);

/* Flags of p2pbuf_device_from_fd(). */
/* Only a p2pgem device: another DRM driver's descriptor is -ENODEV. */
#define P2PBUF_DEVICE_P2PGEM	(1u << 0)

/**
 * p2pbuf_device_from_fd() - a device from a DRM descriptor the caller opened
 * @fd: an open DRM node: a render node (/dev/dri/renderD*) or a primary
 *	node (/dev/dri/card*), e.g. the one a graphics or compute stack uses
 * @flags: 0 or %P2PBUF_DEVICE_P2PGEM
 * @dev: the device, on success; close with p2pbuf_device_close()
 *
 * The device works on a duplicate of @fd (close-on-exec), which
 * p2pbuf_device_close() closes: the caller keeps @fd, may close it at any
 * time, and must close it itself. The duplicate shares @fd's open file, so
 * GEM handles are shared with the caller's own use of @fd: buffers
 * p2pbuf_buffer_import() finds there are the caller's objects too, and
 * p2pbuf_buffer_put() of the last reference closes their handle. Buffers
 * are made as p2pbuf_device_open()'s are; a primary node @fd makes dumb
 * buffers on itself and never opens another node.
 *
 * Return: -EBADF if @fd is not open, -ENOTTY if it is not a DRM device
 * node (another character device, a file, a socket, a dma-buf),
 * -ENODEV with %P2PBUF_DEVICE_P2PGEM for a DRM device of another driver,
 * -EINVAL for unknown flags.
 */
int p2pbuf_device_from_fd(int fd, unsigned int flags, struct p2pbuf_device **dev);

/** p2pbuf_device_close() - close @dev; its buffers must be released first (-EBUSY). */
int p2pbuf_device_close(struct p2pbuf_device *dev);

/**
 * p2pbuf_device_query() - what p2pbuf_device_list() says about @dev
 * @dev: an open device
 * @info: the caller sets @info->size; filled on success
 *
 * Named apart from struct p2pbuf_device_info, so that C++ code can name
 * the structure without "struct".
 */
int p2pbuf_device_query(const struct p2pbuf_device *dev,
			struct p2pbuf_device_info *info);

#ifndef __cplusplus
/**
 * p2pbuf_device_info() - p2pbuf_device_query() under another name
 *
 * The same function, for C programs. Not declared for C++, where it would
 * hide struct p2pbuf_device_info.
 */
int p2pbuf_device_info(const struct p2pbuf_device *dev,
		       struct p2pbuf_device_info *info);
#endif

/* Flags of p2pbuf_buffer_alloc() (p2pgem only; VRAM placements only). */
/* One physically contiguous range of VRAM. */
#define P2PBUF_ALLOC_CONTIGUOUS	(1u << 0)
/* Start in the CPU-visible part of VRAM (small BAR). */
#define P2PBUF_ALLOC_CPU_ACCESS	(1u << 1)

/**
 * p2pbuf_buffer_alloc() - allocate a buffer on @dev
 * @dev: the device
 * @size: bytes; rounded up to the page size
 * @placement: enum p2pbuf_placement
 * @flags: P2PBUF_ALLOC_*
 * @buf: the buffer, on success; release with p2pbuf_buffer_put()
 *
 * On p2pgem, P2PBUF_PLACEMENT_ANY means "VRAM if free, else system
 * memory", and the buffer may move later (eviction); see
 * p2pbuf_buffer_query(). Other drivers (vgem, ...) give system memory
 * through dumb buffers.
 *
 * Return: -EOPNOTSUPP for a placement or flag the device cannot provide
 * (only p2pgem has VRAM), -E2BIG for a size that can never be placed,
 * -ENOMEM when the memory is not free now.
 */
int p2pbuf_buffer_alloc(struct p2pbuf_device *dev, uint64_t size,
			unsigned int placement, unsigned int flags,
			struct p2pbuf_buffer **buf);

/**
 * p2pbuf_buffer_import() - the buffer of a dma-buf exported by @dev
 * @fd: the dma-buf (not consumed)
 * @buf: the buffer; importing the same dma-buf twice gives the same object
 *       with one more reference
 */
int p2pbuf_buffer_import(struct p2pbuf_device *dev, int fd,
			 struct p2pbuf_buffer **buf);

/**
 * p2pbuf_buffer_export() - a dma-buf for @buf
 * @fd: a new close-on-exec, read-write dma-buf descriptor; the caller owns it
 */
int p2pbuf_buffer_export(const struct p2pbuf_buffer *buf, int *fd);

/** p2pbuf_buffer_get() - take one more reference to @buf. */
int p2pbuf_buffer_get(struct p2pbuf_buffer *buf);

/** p2pbuf_buffer_put() - drop a reference; the last one frees the buffer. */
int p2pbuf_buffer_put(struct p2pbuf_buffer *buf);

/**
 * p2pbuf_buffer_size() - size of @buf in bytes
 * @buf: the buffer
 * @size: its size, on success
 */
int p2pbuf_buffer_size(const struct p2pbuf_buffer *buf, uint64_t *size);

/**
 * p2pbuf_buffer_placement() - where @buf lives now (enum p2pbuf_placement)
 * @buf: the buffer
 * @placement: P2PBUF_PLACEMENT_VRAM or P2PBUF_PLACEMENT_SYSTEM, on success
 *
 * Asks the kernel each time on p2pgem: a buffer can be evicted at any time.
 */
int p2pbuf_buffer_placement(const struct p2pbuf_buffer *buf,
			    unsigned int *placement);

/**
 * struct p2pbuf_buffer_info - what the exporter says about a buffer
 * @size: sizeof(struct p2pbuf_buffer_info), set by the caller
 * @placement: where it is now (VRAM or SYSTEM)
 * @buf_size: bytes
 * @requested_placement: what it was allocated with (ANY, VRAM or SYSTEM)
 * @flags: P2PBUF_ALLOC_* it was allocated with
 * @move_count: copies so far (evictions, returns to VRAM)
 * @pin_count: pins held; a pinned buffer never moves
 * @attachments: devices attached to its dma-buf
 * @cpu_visible: 1 if it is in VRAM and entirely CPU-visible
 * @pad: zero
 * @reserved: zero
 *
 * Drivers other than p2pgem report buf_size and placement only.
 */
struct p2pbuf_buffer_info {
	uint32_t size;
	uint32_t placement;
	uint64_t buf_size;
	uint32_t requested_placement;
	uint32_t flags;
	uint64_t move_count;
	uint32_t pin_count;
	uint32_t attachments;
	uint32_t cpu_visible;
	uint32_t pad;
	uint64_t reserved[2];
};

/**
 * p2pbuf_buffer_query() - what the exporter says about @buf now
 * @buf: the buffer
 * @info: the caller sets @info->size; filled from the kernel on success
 */
int p2pbuf_buffer_query(const struct p2pbuf_buffer *buf,
			struct p2pbuf_buffer_info *info);

/* ------------------------------------------------------------------ */
/* Introspection                                                        */
/* ------------------------------------------------------------------ */

/**
 * struct p2pbuf_dmabuf_info - one dma-buf descriptor of a process
 * @size: sizeof(struct p2pbuf_dmabuf_info), set by the caller
 * @fd: descriptor number in that process
 * @inode: the dma-buf's inode number: equal for every descriptor of the
 *         same buffer (the "ino" line of fdinfo)
 * @buf_size: bytes
 * @count: references to the buffer's file (descriptors and mappings)
 * @flags: the open flags, octal in fdinfo
 * @pad: zero
 * @exporter: the exporting driver ("exp_name")
 * @name: the buffer's name, or empty
 * @reserved: zero
 */
struct p2pbuf_dmabuf_info {
	uint32_t size;
	int32_t fd;
	uint64_t inode;
	uint64_t buf_size;
	uint64_t count;
	uint32_t flags;
	uint32_t pad;
	char exporter[64];
	char name[P2PBUF_NAME_LEN];
	uint64_t reserved[2];
};

/**
 * p2pbuf_fdinfo_parse() - parse the text of /proc/PID/fdinfo/FD
 * @text: the file's contents, NUL-terminated
 * @info: the caller sets @info->size; filled on success (@info->fd is
 *        left alone)
 *
 * The kernel prints the buffer's name last, as its owner set it (newlines
 * included): everything after "name:" is the name (less its final
 * newline), and nothing in it is taken for another line's key. Escape it
 * before showing it on a terminal.
 *
 * Return: -ENOENT if the text does not describe a dma-buf (no exp_name),
 * -EBADMSG if a dma-buf line is malformed.
 */
int p2pbuf_fdinfo_parse(const char *text, struct p2pbuf_dmabuf_info *info);

/**
 * p2pbuf_dmabuf_list() - the dma-bufs process @pid holds
 * @pid: the process; 0 (or the caller's pid) for the calling thread's
 *       descriptor table (/proc/thread-self), which is the process's
 *       unless the thread unshared it
 * @infos: room for @max entries, in descriptor order, each @infos[0].size
 *         bytes (set by the caller) apart
 * @max: capacity of @infos
 * @count: dma-bufs found (may exceed @max; only @max are filled)
 *
 * Return: -ESRCH if @pid does not exist, -EACCES if its descriptors are
 * not readable.
 */
int p2pbuf_dmabuf_list(pid_t pid, struct p2pbuf_dmabuf_info *infos,
		       unsigned int max, unsigned int *count);

/* ------------------------------------------------------------------ */
/* Explain                                                              */
/* ------------------------------------------------------------------ */

/* Verdicts of p2pbuf_explain(): how the client would reach the memory. */
enum p2pbuf_map {
	P2PBUF_MAP_UNKNOWN = 0,		/* not enough information */
	P2PBUF_MAP_BUS_ADDRESS,		/* P2P, common switch */
	P2PBUF_MAP_HOST_BRIDGE,		/* P2P through the host bridge */
	P2PBUF_MAP_IOMMU,		/* P2P through the IOMMU */
	P2PBUF_MAP_NONE,		/* no P2P: system memory fallback */
	P2PBUF_MAP_ERROR,		/* the kernel's attempt failed */
};

/* Why, when the verdict is not P2P (or unknown). */
enum p2pbuf_reason {
	P2PBUF_REASON_NONE = 0,
	P2PBUF_REASON_NO_P2PDMA_KERNEL,		/* CONFIG_PCI_P2PDMA off */
	P2PBUF_REASON_NO_MOVE_NOTIFY_KERNEL,	/* unused: such kernels pin on map */
	P2PBUF_REASON_NO_SUCH_DEVICE,		/* a PCI address does not exist */
	P2PBUF_REASON_NOT_PROVIDER,		/* no P2P memory registered */
	P2PBUF_REASON_SAME_DEVICE,		/* provider and client are one */
	P2PBUF_REASON_ACS_REDIRECT,
	P2PBUF_REASON_HOST_BRIDGE_NOT_WHITELISTED,
	P2PBUF_REASON_DMA_MAP_REFUSED,
	P2PBUF_REASON_CLIENT_DMA_MASK,
	P2PBUF_REASON_DMA_MAP_FAILED,
	P2PBUF_REASON_NO_KERNEL_VERDICT,	/* probe not loaded: topology only */
	P2PBUF_REASON_OTHER,
	P2PBUF_REASON_IN_SYSTEM_MEMORY,		/* the buffer is not in VRAM now */
	P2PBUF_REASON_PINNED_IN_SYSTEM_MEMORY,	/* ... and pinned there */
	P2PBUF_REASON_NOT_PCI_DEVICE,		/* the exporter is not PCI */
	P2PBUF_REASON_LARGER_THAN_VISIBLE,	/* larger than the bus-visible VRAM */
	P2PBUF_REASON_IMPORTER_WITHOUT_P2P,	/* the importer does not allow P2P */
};

/**
 * enum p2pbuf_importer - how the peer's driver imports a dma-buf
 * @P2PBUF_IMPORTER_P2P: dynamically (move_notify) and with allow_peer2peer,
 *	as the RDMA core's ib_umem_dmabuf does; what explain assumes
 * @P2PBUF_IMPORTER_DYNAMIC: dynamically, without allow_peer2peer
 * @P2PBUF_IMPORTER_STATIC: with dma_buf_attach(): no move_notify, and the
 *	exporter pins the buffer while the importer has it mapped
 */
enum p2pbuf_importer {
	P2PBUF_IMPORTER_P2P = 0,
	P2PBUF_IMPORTER_DYNAMIC,
	P2PBUF_IMPORTER_STATIC,
};

/**
 * struct p2pbuf_explanation - the answer of p2pbuf_explain()
 * @size: sizeof(struct p2pbuf_explanation), set by the caller
 * @map: enum p2pbuf_map
 * @reason: enum p2pbuf_reason
 * @distance: pci_p2pdma_distance() as the kernel computed it, -1 if none
 * @dma_address: the address the client would use, 0 if none or unknown
 * @common_upstream: the closest bridge above both, as a PCI address, or
 *                   empty (they meet only at the host bridge)
 * @provider_iommu_group: IOMMU group of the provider, -1 if none
 * @client_iommu_group: IOMMU group of the client, -1 if none
 * @kernel_p2pdma: CONFIG_PCI_P2PDMA: 1 yes, 0 no, -1 unknown
 * @kernel_move_notify: CONFIG_DMABUF_MOVE_NOTIFY: 1 yes, 0 no, -1 unknown
 * @kernel_verdict: 1 if @map comes from the kernel's probe, 0 if derived
 * @reason_code: the kernel's reason word ("acs-redirect", ...) or "-"
 * @text: one sentence for a person
 * @pad: zero
 * @reserved: zero
 */
struct p2pbuf_explanation {
	uint32_t size;
	int32_t map;
	int32_t reason;
	int32_t distance;
	uint64_t dma_address;
	char common_upstream[16];
	int32_t provider_iommu_group;
	int32_t client_iommu_group;
	int32_t kernel_p2pdma;
	int32_t kernel_move_notify;
	int32_t kernel_verdict;
	char reason_code[64];
	char text[256];
	uint32_t pad;
	uint64_t reserved[2];
};

/**
 * struct p2pbuf_explain_source - where p2pbuf_explain() looks (NULL: default)
 * @size: sizeof(struct p2pbuf_explain_source), set by the caller
 * @pad: zero
 * @sysfs_pci: default /sys/bus/pci/devices
 * @probe_dir: default /sys/kernel/debug/p2pbuf_probe
 * @kernel_config: a config file; default /proc/config.gz, then
 *                 /boot/config-$(uname -r)
 * @reserved: zero
 */
struct p2pbuf_explain_source {
	uint32_t size;
	uint32_t pad;
	const char *sysfs_pci;
	const char *probe_dir;
	const char *kernel_config;
	uint64_t reserved[2];
};

/**
 * p2pbuf_explain() - would @client get a P2P mapping of @provider's memory?
 * @provider: PCI address of the device whose memory backs the buffer
 * @client: PCI address of the peer that would import it
 * @src: where to look, or NULL for the running system
 * @out: the answer; the caller sets @out->size
 *
 * The kernel's verdict (the p2pbuf_probe matrix) is used when present;
 * otherwise the answer is derived from the kernel configuration and the PCI
 * topology in sysfs and says so in @out->kernel_verdict.
 * Return: -EINVAL for a malformed PCI address, a bad size or non-zero
 * reserved fields in @src or @out, -E2BIG for a larger size with unknown
 * non-zero bytes (see the rules above); an answer otherwise.
 */
int p2pbuf_explain(const char *provider, const char *client,
		   const struct p2pbuf_explain_source *src,
		   struct p2pbuf_explanation *out);

/**
 * p2pbuf_explain_buffer() - would @client get a P2P mapping of @buf?
 * @buf: a buffer of a p2pbuf device
 * @client: PCI address of the peer that would import it
 * @src: where to look, or NULL for the running system
 * @out: the answer
 *
 * p2pbuf_explain() for the buffer's device, then the buffer itself. For
 * a p2pgem buffer the exporter answers (DRM_IOCTL_P2PGEM_GEM_P2P_QUERY):
 * one created for system memory is reached by ordinary DMA (reason
 * "in-system-memory"), one pinned there by another importer cannot move
 * to VRAM while the pin lasts ("pinned-in-system-memory"), one larger than
 * the CPU-visible window cannot be mapped peer-to-peer
 * ("larger-than-visible-window"); a VRAM buffer evicted for now is still
 * reached peer-to-peer, since the exporter brings it back to map it. For
 * other drivers, a buffer in system memory now is "in-system-memory".
 * Return: -ENODEV when the device is not a PCI device.
 */
int p2pbuf_explain_buffer(const struct p2pbuf_buffer *buf, const char *client,
			  const struct p2pbuf_explain_source *src,
			  struct p2pbuf_explanation *out);

/**
 * p2pbuf_explain_dmabuf() - would @client get a P2P mapping of dma-buf @fd?
 * @fd: a dma-buf descriptor, from any process (see p2pbuf_pidfd_getfd())
 * @client: PCI address of the peer that would import it
 * @src: where to look, or NULL for the running system
 * @out: the answer
 * @exporter: filled with the PCI address of the p2pgem device that exported
 *            the buffer, or "udmabuf"; may be NULL if @len is 0
 * @len: room in @exporter
 *
 * For a descriptor whose exporting device the caller does not know: a
 * dma-buf received from another process or taken from it. Each p2pgem
 * device is asked about the descriptor itself
 * (DRM_IOCTL_P2PGEM_GEM_P2P_QUERY with P2PGEM_P2P_QUERY_DMABUF_FD), which
 * only the exporting device answers and which imports nothing: the buffer
 * and its importers are not touched. The answer is then what
 * p2pbuf_explain_buffer() would say. A udmabuf is system memory:
 * "in-system-memory".
 *
 * Return: -EBADFD if @fd is not a dma-buf, -EINVAL for a malformed
 * @client, -ENODEV if no p2pgem device exported it and the exporter is not
 * known to hold system memory (vgem and other GEM drivers all export as
 * "drm"; finding out would mean importing the buffer into them).
 */
int p2pbuf_explain_dmabuf(int fd, const char *client,
			  const struct p2pbuf_explain_source *src,
			  struct p2pbuf_explanation *out, char *exporter,
			  size_t len);

/**
 * p2pbuf_explain_for_importer() - narrow an answer to the importer's kind
 * @e: an answer of p2pbuf_explain(), p2pbuf_explain_buffer() or
 *     p2pbuf_explain_dmabuf(), which assume a P2P-capable importer
 * @importer: enum p2pbuf_importer
 *
 * The exporter decides per attachment: an importer that does not allow
 * peer2peer (a dynamic one without allow_peer2peer, or any static one)
 * gets the buffer in system memory even where the devices could reach each
 * other. A P2P answer, or an undecided one (map "unknown"), becomes map
 * "none", reason "importer-without-p2p"; a "none" keeps its own reason,
 * which holds whatever the importer.
 *
 * Return: -EINVAL for a NULL @e or an unknown @importer.
 */
int p2pbuf_explain_for_importer(struct p2pbuf_explanation *e,
				unsigned int importer);

/**
 * p2pbuf_map_name() - a stable word for an enum p2pbuf_map
 * @map: the value
 * @name: "bus-address", "host-bridge", "iommu", "none", "error" or "unknown"
 *
 * Return: -EINVAL (and @name untouched) for a value outside the enum.
 */
int p2pbuf_map_name(int map, const char **name);

/** p2pbuf_reason_name() - a stable word for an enum p2pbuf_reason ("acs-redirect", ...) */
int p2pbuf_reason_name(int reason, const char **name);

/** p2pbuf_placement_name() - "any", "vram" or "system" */
int p2pbuf_placement_name(unsigned int placement, const char **name);

/* ------------------------------------------------------------------ */
/* File I/O                                                             */
/* ------------------------------------------------------------------ */

/**
 * enum p2pbuf_io_path - how the bytes of a file I/O moved
 * @P2PBUF_IO_PATH_NONE: no I/O
 * @P2PBUF_IO_PATH_P2P: the storage device's DMA into or out of the
 *	exporter's device memory, peer to peer (p2pbuf_nvme.ko)
 * @P2PBUF_IO_PATH_DIRECT_SYSTEM: the storage device's DMA into or out of
 *	the buffer's system pages (the exporter placed it there because the
 *	device cannot reach its memory)
 * @P2PBUF_IO_PATH_BOUNCE: p2pbuf_nvme.ko's own pages and a CPU copy
 *	through the buffer's vmap, for exporters that give importers no
 *	pages (vgem)
 * @P2PBUF_IO_PATH_COMPAT: here, in this process: O_DIRECT between the file
 *	and an aligned buffer in RAM, and a CPU copy through the dma-buf's
 *	mmap inside DMA_BUF_IOCTL_SYNC brackets
 */
enum p2pbuf_io_path {
	P2PBUF_IO_PATH_NONE = 0,
	P2PBUF_IO_PATH_P2P,
	P2PBUF_IO_PATH_DIRECT_SYSTEM,
	P2PBUF_IO_PATH_BOUNCE,
	P2PBUF_IO_PATH_COMPAT,
};

/**
 * struct p2pbuf_io_info - what a file I/O did
 * @size: sizeof(struct p2pbuf_io_info), set by the caller
 * @path: enum p2pbuf_io_path
 * @cpu_bytes: how many of the bytes the CPU moved rather than the storage
 *	device's DMA: on the p2p and direct-system paths, what the
 *	filesystem did with the CPU (holes and unwritten extents a read
 *	gives as zeros; a file without direct I/O, such as ext4 with
 *	data=journal, through the page cache: everything); on the bounce
 *	and compat paths, everything (the copy). Counted by the kernel as
 *	the I/O starts; for the _async functions, when it was queued (the
 *	file as it was then)
 * @reserved: zero
 */
struct p2pbuf_io_info {
	uint32_t size;
	uint32_t path;
	uint64_t cpu_bytes;
	uint64_t reserved[2];
};

/* Fail (the module's error, or -EINVAL when unaligned) instead of compat. */
#define P2PBUF_FILE_NO_COMPAT	(1u << 0)
/* Always the compat path (to compare, or to avoid the module). */
#define P2PBUF_FILE_COMPAT	(1u << 1)

struct p2pbuf_file;

/**
 * p2pbuf_file_open() - register a file for I/O with dma-bufs
 * @fd: a regular file or a block device, open for what the I/O will do
 *	(reading the file needs it readable, writing it writable); the file
 *	keeps a duplicate, the caller may close @fd
 * @flags: 0, %P2PBUF_FILE_NO_COMPAT or %P2PBUF_FILE_COMPAT
 * @file: the registered file, on success
 *
 * What cuFileHandleRegister() is to cuFile. The I/O functions pick the
 * best path for each I/O (enum p2pbuf_io_path) and say which they took.
 * Return: -EINVAL for another kind of file or bad flags; -errno.
 */
int p2pbuf_file_open(int fd, unsigned int flags, struct p2pbuf_file **file);

/**
 * p2pbuf_file_close() - let go of the file and its bindings
 *
 * Waits for the I/Os the storage device has started; asynchronous I/Os
 * that have not started (held back by an in-fence) are cancelled, their
 * fences signal with -ECANCELED.
 */
int p2pbuf_file_close(struct p2pbuf_file *file);

/**
 * p2pbuf_file_read() - read a range of the file into a range of a dma-buf
 * @file: from p2pbuf_file_open()
 * @dmabuf: the buffer, a dma-buf open for writing (a PRIME export with
 *	DRM_RDWR)
 * @buf_offset: where in the buffer
 * @length: bytes; the whole range must lie in the buffer, and, for a
 *	regular file, in the file
 * @file_offset: where in the file or device
 * @info: what the I/O did (the path taken, and what the CPU moved), may
 *	be NULL; the caller sets @info->size
 *
 * Through p2pbuf_nvme.ko when the offsets and length are multiples of the
 * device's logical block size and the module takes the file and the
 * buffer; through the compat path otherwise (unless
 * %P2PBUF_FILE_NO_COMPAT). Returns when the bytes are in the buffer.
 * Return: 0; -EINVAL for a range outside the buffer (or, reading a
 * regular file, outside the file); -EBADF for a file not open for
 * reading; -EPERM for a write to an O_APPEND file; the I/O's error (-EIO,
 * ...).
 */
int p2pbuf_file_read(struct p2pbuf_file *file, int dmabuf,
		     uint64_t buf_offset, uint64_t length,
		     uint64_t file_offset, struct p2pbuf_io_info *info);

/** p2pbuf_file_write() - p2pbuf_file_read() the other way: buffer to file */
int p2pbuf_file_write(struct p2pbuf_file *file, int dmabuf,
		      uint64_t buf_offset, uint64_t length,
		      uint64_t file_offset, struct p2pbuf_io_info *info);

/**
 * p2pbuf_file_read_async() - queue a read, get its fence
 * @in_fence: a sync_file the read waits for before it starts, or -1
 * @out_fence: a sync_file that signals when the bytes are in the buffer
 *	(with the I/O's error); the caller closes it
 *
 * As p2pbuf_file_read(), without waiting, and only through the kernel:
 * the range must be block-aligned (-EINVAL), the module loaded (-ENOENT
 * when it is not) and the exporter one that gives its pages (-EOPNOTSUPP).
 * The read's fence is also in the buffer's reservation object, as a
 * writer: implicitly synchronised users of the buffer wait for it. Waits
 * only while the binding's queue is full.
 */
int p2pbuf_file_read_async(struct p2pbuf_file *file, int dmabuf,
			   uint64_t buf_offset, uint64_t length,
			   uint64_t file_offset, int in_fence, int *out_fence,
			   struct p2pbuf_io_info *info);

/** p2pbuf_file_write_async() - p2pbuf_file_read_async() the other way */
int p2pbuf_file_write_async(struct p2pbuf_file *file, int dmabuf,
			    uint64_t buf_offset, uint64_t length,
			    uint64_t file_offset, int in_fence, int *out_fence,
			    struct p2pbuf_io_info *info);

/**
 * struct p2pbuf_file_explanation - which path an I/O would take, and why
 * @size: sizeof(struct p2pbuf_file_explanation), set by the caller
 * @path: enum p2pbuf_io_path, for a block-aligned I/O
 * @reason: why not p2p, a stable word: "no-p2pbuf-nvme" (module not
 *	loaded), "no-direct-io" (the file's filesystem has no direct I/O on a
 *	block device), "bind-failed", "exporter-without-pages" (bounce when
 *	the exporter has vmap, compat when not: udmabuf),
 *	"queue-without-p2p", "compat-asked", or the exporter's reason
 *	(p2pbuf_reason_name(): "acs-redirect", "in-system-memory", ...);
 *	"-" for p2p
 * @block_device: the block device the I/O goes to ("nvme0n1"), or ""
 * @pci: the PCI function that would DMA, or ""
 * @queue_p2p: the device's request queue can do PCI P2P DMA: 1, 0, or -1
 *	when the module was not asked
 * @pad: zero
 * @exporter: the exporter's answer for @pci (p2pbuf_explain_dmabuf()),
 *	map "unknown" when it was not asked; its own @size is the
 *	library's sizeof(struct p2pbuf_explanation)
 * @text: one sentence for a person
 * @reserved: zero
 */
struct p2pbuf_file_explanation {
	uint32_t size;
	uint32_t path;
	char reason[32];
	char block_device[32];
	char pci[16];
	int32_t queue_p2p;
	uint32_t pad;
	struct p2pbuf_explanation exporter;
	char text[384];
	uint64_t reserved[2];
};

/**
 * p2pbuf_file_explain() - which path would an I/O between @file and
 * @dmabuf take, and why (what gdscheck answers for GPUDirect Storage)
 *
 * Asks the kernel: binds the buffer with p2pbuf_nvme.ko (kept for later
 * I/O, as the I/O functions do) and asks the exporter about the storage
 * device's PCI function. Moves no data.
 * Return: 0 with an answer; -EBADFD if @dmabuf is not a dma-buf.
 */
int p2pbuf_file_explain(struct p2pbuf_file *file, int dmabuf,
			struct p2pbuf_file_explanation *e);

/** p2pbuf_io_path_name() - "p2p", "direct-system", "bounce", "compat", "none" */
int p2pbuf_io_path_name(unsigned int path, const char **name);

#ifdef __cplusplus
}
#endif

#endif /* P2PBUF_P2PBUF_H */
