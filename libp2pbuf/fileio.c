// SPDX-License-Identifier: MIT
/*
 * libp2pbuf: file I/O into and out of dma-bufs.
 *
 * A registered file (a regular file or a block device) reads into and
 * writes from ranges of dma-bufs. The paths, best first:
 *
 * - p2pbuf_nvme.ko (/dev/p2pbuf_nvme) binds the dma-buf to the file and
 *   the storage device DMAs straight into the buffer's memory: "p2p" when
 *   that is the exporter's device memory, "direct-system" when the buffer
 *   sits in system memory (the device's queue or the PCI topology cannot
 *   do P2P);
 * - "compat": O_DIRECT between the file and an aligned buffer in this
 *   process, and a CPU copy through the dma-buf's mmap, inside
 *   DMA_BUF_IOCTL_SYNC brackets. Taken when the module is not loaded, the
 *   file's filesystem has no direct I/O on a block device, the exporter
 *   does not give importers its pages, or the range is not aligned to the
 *   device's logical blocks; never with P2PBUF_FILE_NO_COMPAT.
 *
 * Bindings are made on first use, one per dma-buf (by inode), and kept
 * until p2pbuf_file_close(); the file holds a duplicate of each dma-buf
 * descriptor it bound, so the caller may close its own. Each binding also
 * remembers the caller's descriptor number it was last used with: the
 * next I/O through that number skips fstat(2), and the module checks
 * that the number still names the binding's dma-buf
 * (P2PBUF_NVME_IO_DMABUF_FD), so a number closed and reused for another
 * dma-buf is caught (ESTALE) and looked up again.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/p2pbuf_nvme.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"

#define NVME_DEV "/dev/p2pbuf_nvme"
/* The compat path's bounce buffer, and its alignment (any block size). */
#define COMPAT_CHUNK (4u << 20)
#define COMPAT_ALIGN 4096u
#define MAX_BINDINGS 16

struct p2pbuf_file_binding {
	dev_t dev;
	ino_t ino;
	int dmabuf;		/* our duplicate */
	uint32_t handle;
	int queue_p2p;
	int bounce;		/* the exporter gives no pages: the kernel copies */
	uint64_t size;		/* the dma-buf's, which never changes */
	int user_fd;		/* the caller's number for it, last seen, or -1 */
};

struct p2pbuf_file {
	int fd;			/* our duplicate of the caller's */
	int direct_fd;		/* the same file with O_DIRECT, or -1 */
	int plain_fd;		/* without O_DIRECT: @fd, or a reopen */
	int nv;			/* /dev/p2pbuf_nvme, or -1 */
	int nv_errno;		/* why @nv is -1 */
	int fd_check;		/* @nv takes P2PBUF_NVME_IO_DMABUF_FD */
	unsigned int flags;
	unsigned int lbs;	/* logical block size, 512 if unknown */
	int accmode;
	int append;		/* O_APPEND: no write at an offset */
	pthread_mutex_t lock;	/* @nbind and @bind: threads may share a file */
	unsigned int nbind;
	struct p2pbuf_file_binding bind[MAX_BINDINGS];
};

static int file_reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

/* The block device under @st: itself, or the one its filesystem is on. */
static dev_t file_bdev(const struct stat *st)
{
	return S_ISBLK(st->st_mode) ? st->st_rdev : st->st_dev;
}

/* Logical block size of the block device @dev, from sysfs; 512 if unknown. */
static unsigned int file_lbs(dev_t dev)
{
	char path[96], text[32];
	unsigned int lbs;

	snprintf(path, sizeof(path),
		 "/sys/dev/block/%u:%u/queue/logical_block_size",
		 major(dev), minor(dev));
	if (p2pbuf__read_file(path, text, sizeof(text)) ||
	    sscanf(text, "%u", &lbs) != 1 || !lbs) {
		/* A partition has no queue directory of its own. */
		snprintf(path, sizeof(path),
			 "/sys/dev/block/%u:%u/../queue/logical_block_size",
			 major(dev), minor(dev));
		if (p2pbuf__read_file(path, text, sizeof(text)) ||
		    sscanf(text, "%u", &lbs) != 1 || !lbs)
			return 512;
	}
	return lbs;
}

/*
 * Whether the module takes P2PBUF_NVME_IO_DMABUF_FD (an older one refuses
 * the flag with EINVAL): on a file with no binding yet, an I/O with it
 * gets as far as the handle (ENOENT).
 */
static int module_checks_fd(int nv)
{
	struct p2pbuf_nvme_io io = {
		.flags = P2PBUF_NVME_IO_DMABUF_FD, .dmabuf_fd = -1,
	};

	return ioctl(nv, P2PBUF_NVME_IOC_IO, &io) && errno == ENOENT;
}

int p2pbuf_file_open(int fd, unsigned int flags, struct p2pbuf_file **out)
{
	struct p2pbuf_file *f;
	struct stat st;
	int fl;

	if (!out || (flags & ~(P2PBUF_FILE_NO_COMPAT | P2PBUF_FILE_COMPAT)) ||
	    (flags & P2PBUF_FILE_NO_COMPAT && flags & P2PBUF_FILE_COMPAT))
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	f->flags = flags;
	f->accmode = fl & O_ACCMODE;
	f->append = !!(fl & O_APPEND);
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (f->fd < 0) {
		free(f);
		return -errno;
	}
	f->lbs = file_lbs(file_bdev(&st));
	f->direct_fd = file_reopen(fd, f->accmode | O_DIRECT);
	/* The compat path's buffered fallback, whatever the caller opened. */
	f->plain_fd = f->fd;
	if (fl & O_DIRECT) {
		f->plain_fd = file_reopen(fd, f->accmode);
		if (f->plain_fd < 0)
			f->plain_fd = f->fd;
	}
	f->nv = -1;
	f->nv_errno = ENODEV;
	if (!(flags & P2PBUF_FILE_COMPAT)) {
		/* Not there, or not ours to open: compat, not an error. */
		f->nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
		if (f->nv < 0)
			f->nv_errno = errno;
		else
			f->fd_check = module_checks_fd(f->nv);
	}
	*out = f;
	return 0;
}

int p2pbuf_file_close(struct p2pbuf_file *f)
{
	unsigned int i;

	if (!f)
		return -EINVAL;
	/* Closing the module's file unbinds, after the I/Os in flight. */
	if (f->nv >= 0)
		close(f->nv);
	for (i = 0; i < f->nbind; i++)
		close(f->bind[i].dmabuf);
	if (f->direct_fd >= 0)
		close(f->direct_fd);
	if (f->plain_fd != f->fd)
		close(f->plain_fd);
	close(f->fd);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

/*
 * fstat(2) by its own system call: glibc's goes through fstatat(2) with an
 * empty path, which costs a path walk on 6.1, once per I/O here.
 */
static int fd_stat(int fd, struct stat *st)
{
#ifdef SYS_fstat
	if (syscall(SYS_fstat, fd, st))
		return -errno;
#else
	if (fstat(fd, st))
		return -errno;
#endif
	return 0;
}

/* The index of the binding of the dma-buf whose stat is @st, or -1. */
static int file_binding_find_locked(struct p2pbuf_file *f,
				    const struct stat *st)
{
	unsigned int i;

	for (i = 0; i < f->nbind; i++)
		if (f->bind[i].dev == st->st_dev && f->bind[i].ino == st->st_ino)
			return (int)i;
	return -1;
}

/* Binding @i is the one the caller's @fd names now; no other is. */
static void file_binding_user_fd_locked(struct p2pbuf_file *f, int i, int fd)
{
	unsigned int j;

	for (j = 0; j < f->nbind; j++)
		if (f->bind[j].user_fd == fd)
			f->bind[j].user_fd = -1;
	f->bind[i].user_fd = fd;
}

/*
 * Without a system call: the binding the caller's @fd named at its last
 * I/O, when the module checks that it still does. Its handle in @handle
 * and its dma-buf's size in @size; 1, or 0 when there is none.
 */
static int file_binding_by_fd(struct p2pbuf_file *f, int fd,
			      uint32_t *handle, uint64_t *size)
{
	unsigned int i;
	int found = 0;

	if (!f->fd_check || fd < 0)
		return 0;
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->nbind && !found; i++) {
		if (f->bind[i].user_fd == fd) {
			*handle = f->bind[i].handle;
			*size = f->bind[i].size;
			found = 1;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

/* The module said the caller's @fd names another dma-buf now. */
static void file_forget_user_fd(struct p2pbuf_file *f, int fd)
{
	unsigned int i;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->nbind; i++)
		if (f->bind[i].user_fd == fd)
			f->bind[i].user_fd = -1;
	pthread_mutex_unlock(&f->lock);
}

/*
 * The binding of @dmabuf (@st is its stat), made on first use; its index,
 * or -errno.
 */
static int file_binding_locked(struct p2pbuf_file *f, int dmabuf,
			       const struct stat *st)
{
	struct p2pbuf_nvme_bind b = { 0 };
	struct p2pbuf_file_binding *fb;
	uint64_t size;
	int dup_fd, ret;

	if (f->nv < 0)
		return -f->nv_errno;
	ret = file_binding_find_locked(f, st);
	if (ret >= 0) {
		file_binding_user_fd_locked(f, ret, dmabuf);
		return ret;
	}
	if (f->nbind == MAX_BINDINGS)
		return -ENOBUFS;	/* the table is full: compat */
	ret = p2pbuf_dmabuf_size(dmabuf, &size);
	if (ret)
		return ret;
	b.dmabuf_fd = dmabuf;
	b.fd = f->fd;
	if (ioctl(f->nv, P2PBUF_NVME_IOC_BIND, &b))
		return -errno;
	dup_fd = fcntl(dmabuf, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		struct p2pbuf_nvme_unbind u = { .handle = b.handle };
		int err = errno;

		ioctl(f->nv, P2PBUF_NVME_IOC_UNBIND, &u);
		return -err;
	}
	fb = &f->bind[f->nbind];
	fb->dev = st->st_dev;
	fb->ino = st->st_ino;
	fb->dmabuf = dup_fd;
	fb->handle = b.handle;
	fb->queue_p2p = b.p2p == P2PBUF_NVME_QUEUE_P2P;
	fb->bounce = b.p2p == P2PBUF_NVME_BOUNCE;
	fb->size = size;
	file_binding_user_fd_locked(f, (int)f->nbind, dmabuf);
	return (int)f->nbind++;
}

/*
 * The index of @dmabuf's binding, and its handle, and when asked its
 * queue_p2p and bounce; @st is @dmabuf's stat, or NULL.
 */
static int file_binding(struct p2pbuf_file *f, int dmabuf,
			const struct stat *st, uint32_t *handle,
			int *queue_p2p, int *bounce)
{
	struct stat own;
	int i;

	if (!st) {
		i = fd_stat(dmabuf, &own);
		if (i)
			return i;
		st = &own;
	}
	pthread_mutex_lock(&f->lock);
	i = file_binding_locked(f, dmabuf, st);
	if (i >= 0) {
		*handle = f->bind[i].handle;
		if (queue_p2p)
			*queue_p2p = f->bind[i].queue_p2p;
		if (bounce)
			*bounce = f->bind[i].bounce;
	}
	pthread_mutex_unlock(&f->lock);
	return i;
}

/*
 * The size of @dmabuf, whose stat is @st: that of its binding when it has
 * one (no system call), else asked.
 */
static int file_dmabuf_size(struct p2pbuf_file *f, int dmabuf,
			    const struct stat *st, uint64_t *size)
{
	int i;

	pthread_mutex_lock(&f->lock);
	i = file_binding_find_locked(f, st);
	if (i >= 0)
		*size = f->bind[i].size;
	pthread_mutex_unlock(&f->lock);
	return i >= 0 ? 0 : p2pbuf_dmabuf_size(dmabuf, size);
}

static unsigned int path_of(uint32_t nvme_path)
{
	return nvme_path == P2PBUF_NVME_PATH_P2P ? P2PBUF_IO_PATH_P2P :
	       nvme_path == P2PBUF_NVME_PATH_BOUNCE ? P2PBUF_IO_PATH_BOUNCE :
	       P2PBUF_IO_PATH_DIRECT_SYSTEM;
}

/*
 * The module's I/O; -EOPNOTSUPP and friends tell the caller to fall back.
 * @st is @dmabuf's stat; without it (NULL), the binding @dmabuf named at
 * its last I/O, or one looked up again. @handle, when not NULL, is that
 * binding's, found by the caller.
 */
static int file_module_io(struct p2pbuf_file *f, int dmabuf,
			  const struct stat *st, const uint32_t *handle,
			  uint32_t op, uint64_t buf_offset, uint64_t length,
			  uint64_t file_offset, int in_fence, int *out_fence,
			  struct p2pbuf_io_info *info)
{
	struct p2pbuf_nvme_io io;
	uint64_t size;
	int i, known;

again:
	memset(&io, 0, sizeof(io));
	known = !st && (handle ||
			file_binding_by_fd(f, dmabuf, &io.handle, &size));
	if (handle)
		io.handle = *handle;
	if (!known) {
		i = file_binding(f, dmabuf, st, &io.handle, NULL, NULL);
		if (i < 0)
			return i;
	}
	io.op = op;
	io.buf_offset = buf_offset;
	io.length = length;
	io.dev_offset = file_offset;
	if (in_fence >= 0) {
		io.flags |= P2PBUF_NVME_IO_IN_FENCE;
		io.in_fence_fd = in_fence;
	}
	if (f->fd_check) {
		io.flags |= P2PBUF_NVME_IO_DMABUF_FD;
		io.dmabuf_fd = dmabuf;
	}
	/*
	 * Synchronous I/O waits in the module: no sync_file to make, poll
	 * and close, and the count of what the CPU moved is the final one.
	 * Only a fatal signal ends that wait (EINTR, the I/O going on).
	 */
	if (out_fence)
		io.flags |= P2PBUF_NVME_IO_ASYNC;
	while (ioctl(f->nv, P2PBUF_NVME_IOC_IO, &io)) {
		/*
		 * A full queue: wait for room, as a blocking write would.
		 * EINTR comes before anything was queued (or when killed).
		 */
		if (errno == EAGAIN || errno == EINTR) {
			usleep(1000);
			continue;
		}
		/* The number was closed and reused: look it up again. */
		if (errno == ESTALE && known) {
			file_forget_user_fd(f, dmabuf);
			handle = NULL;
			goto again;
		}
		return -errno;
	}
	if (info) {
		struct p2pbuf_io_info k = { .size = sizeof(k) };

		k.path = path_of(io.path);
		k.cpu_bytes = io.cpu_bytes;
		p2pbuf__struct_out(info, &k, sizeof(k));
	}
	if (out_fence)
		*out_fence = io.out_fence_fd;
	return 0;
}

/* Errors after which the compat path can still do the I/O. */
static int module_declined(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO ||
	       err == -EOPNOTSUPP || err == -ENOTBLK || err == -ENOBUFS;
}

/*
 * Move @n bytes between the file at @off and @buf, whole: partial
 * transfers go on; the end of the file is -EINVAL for a read (the range
 * lies outside it). O_DIRECT while *@direct; an O_DIRECT refusal
 * (EINVAL: the device or filesystem wants another alignment) falls back
 * to buffered I/O for the rest.
 */
static int compat_xfer(struct p2pbuf_file *f, int *direct, int write,
		       uint8_t *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	ssize_t got;

	while (done < n) {
		int fd = *direct ? f->direct_fd : f->plain_fd;

		if (write)
			got = pwrite(fd, buf + done, n - done, (off_t)(off + done));
		else
			got = pread(fd, buf + done, n - done, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EINVAL && *direct) {
			*direct = 0;
			continue;
		}
		if (got < 0)
			return -errno;
		if (!got)
			return write ? -EIO : -EINVAL;
		done += (size_t)got;
	}
	return 0;
}

/*
 * compat: through an aligned buffer here and the dma-buf's mmap. O_DIRECT
 * when the file was reopened with it and the range allows; buffered
 * otherwise.
 */
static int file_compat_io(struct p2pbuf_file *f, int dmabuf, int write,
			  uint64_t buf_offset, uint64_t length,
			  uint64_t file_offset)
{
	unsigned int access = write ? P2PBUF_ACCESS_READ : P2PBUF_ACCESS_WRITE;
	long page = sysconf(_SC_PAGESIZE);
	struct p2pbuf_mapping map = { .size = sizeof(map) };
	uint64_t map_off, done = 0;
	int ret, use_direct;
	void *bounce = NULL;
	uint8_t *dst;

	if (page <= 0)
		return -EINVAL;
	map_off = buf_offset - buf_offset % (uint64_t)page;
	ret = p2pbuf_mmap(dmabuf, map_off, buf_offset - map_off + length,
			  access, &map);
	if (ret)
		return ret;
	if (posix_memalign(&bounce, COMPAT_ALIGN, COMPAT_CHUNK)) {
		p2pbuf_munmap(&map);
		return -ENOMEM;
	}
	dst = (uint8_t *)map.addr + (buf_offset - map_off);
	use_direct = f->direct_fd >= 0 &&
		     !((file_offset | length) % COMPAT_ALIGN);
	while (!ret && done < length) {
		size_t n = length - done < COMPAT_CHUNK ?
			   (size_t)(length - done) : COMPAT_CHUNK;

		if (write) {
			ret = p2pbuf_cpu_access_begin(dmabuf, access);
			if (ret)
				break;
			memcpy(bounce, dst + done, n);
			ret = p2pbuf_cpu_access_end(dmabuf, access);
			if (ret)
				break;
		}
		ret = compat_xfer(f, &use_direct, write, bounce, n,
				  file_offset + done);
		if (ret)
			break;
		if (!write) {
			ret = p2pbuf_cpu_access_begin(dmabuf, access);
			if (ret)
				break;
			memcpy(dst + done, bounce, n);
			ret = p2pbuf_cpu_access_end(dmabuf, access);
		}
		done += n;
	}
	free(bounce);
	p2pbuf_munmap(&map);
	return ret;
}

static int file_io(struct p2pbuf_file *f, int dmabuf, int write,
		   uint64_t buf_offset, uint64_t length, uint64_t file_offset,
		   struct p2pbuf_io_info *info)
{
	struct stat st;
	uint32_t handle;
	uint64_t size;
	int ret, known;

	if (!f || !length)
		return -EINVAL;
	if (info) {
		ret = p2pbuf__struct_out_ok(info, sizeof(*info));
		if (ret)
			return ret;
	}
	/*
	 * The binding @dmabuf named last time, if the range fits its
	 * buffer; the module checks that it still names it.
	 */
	known = file_binding_by_fd(f, dmabuf, &handle, &size) &&
		buf_offset <= size && length <= size - buf_offset;
	if (!known) {
		ret = fd_stat(dmabuf, &st);
		if (!ret)
			ret = file_dmabuf_size(f, dmabuf, &st, &size);
		if (ret)
			return ret;
		if (buf_offset > size || length > size - buf_offset)
			return -EINVAL;
	}
	if (file_offset > (uint64_t)INT64_MAX - length)
		return write ? -EFBIG : -EINVAL;
	if (write ? f->accmode == O_RDONLY : f->accmode == O_WRONLY)
		return -EBADF;
	/* pwrite(2) ignores the offset of an O_APPEND file. */
	if (write && f->append)
		return -EPERM;
	if (f->nv < 0 && f->flags & P2PBUF_FILE_NO_COMPAT)
		return -f->nv_errno;
	if (f->nv >= 0 && !((buf_offset | length | file_offset) % f->lbs)) {
		ret = file_module_io(f, dmabuf, known ? NULL : &st,
				     known ? &handle : NULL,
				     write ? P2PBUF_NVME_WRITE :
					     P2PBUF_NVME_READ, buf_offset,
				     length, file_offset, -1, NULL, info);
		if (!ret || !module_declined(ret) ||
		    f->flags & P2PBUF_FILE_NO_COMPAT)
			return ret;
	} else if (f->flags & P2PBUF_FILE_NO_COMPAT) {
		return -EINVAL;	/* unaligned for the device */
	}
	ret = file_compat_io(f, dmabuf, write, buf_offset, length, file_offset);
	if (!ret && info) {
		struct p2pbuf_io_info k = { .size = sizeof(k) };

		k.path = P2PBUF_IO_PATH_COMPAT;
		k.cpu_bytes = length;
		p2pbuf__struct_out(info, &k, sizeof(k));
	}
	return ret;
}

int p2pbuf_file_read(struct p2pbuf_file *f, int dmabuf, uint64_t buf_offset,
		     uint64_t length, uint64_t file_offset,
		     struct p2pbuf_io_info *info)
{
	return file_io(f, dmabuf, 0, buf_offset, length, file_offset, info);
}

int p2pbuf_file_write(struct p2pbuf_file *f, int dmabuf, uint64_t buf_offset,
		      uint64_t length, uint64_t file_offset,
		      struct p2pbuf_io_info *info)
{
	return file_io(f, dmabuf, 1, buf_offset, length, file_offset, info);
}

static int file_io_async(struct p2pbuf_file *f, int dmabuf, uint32_t op,
			 uint64_t buf_offset, uint64_t length,
			 uint64_t file_offset, int in_fence, int *out_fence,
			 struct p2pbuf_io_info *info)
{
	int ret;

	if (!f || !out_fence || !length || f->flags & P2PBUF_FILE_COMPAT)
		return -EINVAL;
	if (info) {
		ret = p2pbuf__struct_out_ok(info, sizeof(*info));
		if (ret)
			return ret;
	}
	if ((buf_offset | length | file_offset) % f->lbs)
		return -EINVAL;
	return file_module_io(f, dmabuf, NULL, NULL, op, buf_offset, length,
			      file_offset, in_fence, out_fence, info);
}

int p2pbuf_file_read_async(struct p2pbuf_file *f, int dmabuf,
			   uint64_t buf_offset, uint64_t length,
			   uint64_t file_offset, int in_fence, int *out_fence,
			   struct p2pbuf_io_info *info)
{
	return file_io_async(f, dmabuf, P2PBUF_NVME_READ, buf_offset, length,
			     file_offset, in_fence, out_fence, info);
}

int p2pbuf_file_write_async(struct p2pbuf_file *f, int dmabuf,
			    uint64_t buf_offset, uint64_t length,
			    uint64_t file_offset, int in_fence, int *out_fence,
			    struct p2pbuf_io_info *info)
{
	return file_io_async(f, dmabuf, P2PBUF_NVME_WRITE, buf_offset, length,
			     file_offset, in_fence, out_fence, info);
}

/*
 * The block device's name and the PCI function above it, from
 * /sys/dev/block/MAJ:MIN: the last path component that is a PCI address.
 */
static void file_device(dev_t dev, char *name, size_t name_len, char *pci)
{
	char path[64], link[PATH_MAX], *p, *save = NULL;
	ssize_t n;

	name[0] = 0;
	pci[0] = 0;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(dev),
		 minor(dev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = 0;
	p = strrchr(link, '/');
	p2pbuf__strlcpy(name, p ? p + 1 : link, name_len);
	for (p = strtok_r(link, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		char norm[16];

		if (!p2pbuf__pci_address(p, norm))
			memcpy(pci, norm, sizeof(norm));
	}
}

/* Was @dmabuf exported by a p2pgem device (which gives its pages)? */
static int p2pgem_export(int dmabuf)
{
	struct p2pbuf_explanation x = { .size = sizeof(x) };
	char exporter[32] = "";

	return !p2pbuf_explain_dmabuf(dmabuf, "0000:00:00.0", NULL, &x,
				      exporter, sizeof(exporter)) &&
	       strcmp(exporter, "udmabuf");
}

static void file_say(struct p2pbuf_file_explanation *e, const char *why)
{
	const char *path = "?";

	p2pbuf_io_path_name(e->path, &path);
	snprintf(e->text, sizeof(e->text), "%s: %s", path, why);
}

static int file_explain(struct p2pbuf_file *f, int dmabuf,
			struct p2pbuf_file_explanation *e)
{
	char exporter[32] = "";
	int i, ret, bounce = 0;
	uint32_t handle;
	struct stat st;

	if (!f || !e)
		return -EINVAL;
	ret = p2pbuf_dmabuf_check(dmabuf);
	if (ret)
		return ret;
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
	e->exporter.size = sizeof(e->exporter);
	e->queue_p2p = -1;
	e->exporter.map = P2PBUF_MAP_UNKNOWN;
	snprintf(e->reason, sizeof(e->reason), "-");
	if (fstat(f->fd, &st))
		return -errno;
	file_device(file_bdev(&st), e->block_device, sizeof(e->block_device),
		    e->pci);

	e->path = P2PBUF_IO_PATH_COMPAT;
	if (f->flags & P2PBUF_FILE_COMPAT) {
		snprintf(e->reason, sizeof(e->reason), "compat-asked");
		file_say(e, "the file was opened for the compat path");
		return 0;
	}
	i = file_binding(f, dmabuf, NULL, &handle, &e->queue_p2p, &bounce);
	if (i < 0) {
		const char *why = "the kernel module refused the binding";

		if (f->nv < 0) {
			snprintf(e->reason, sizeof(e->reason), "no-p2pbuf-nvme");
			why = "p2pbuf_nvme.ko is not loaded (" NVME_DEV " is missing)";
		} else if (i == -EOPNOTSUPP && e->block_device[0] &&
			   f->direct_fd >= 0 && !p2pgem_export(dmabuf)) {
			/*
			 * The file has direct I/O on a block device and
			 * p2pgem gives its pages: then it was the exporter.
			 */
			snprintf(e->reason, sizeof(e->reason),
				 "exporter-without-pages");
			why = "the buffer's exporter gives importers neither its pages nor a CPU mapping the kernel can use";
		} else if (i == -EOPNOTSUPP || i == -ENOTBLK) {
			snprintf(e->reason, sizeof(e->reason), "no-direct-io");
			why = "the file's filesystem has no direct I/O on a block device";
		} else {
			snprintf(e->reason, sizeof(e->reason), "bind-failed");
		}
		snprintf(e->text, sizeof(e->text), "compat: %s (%s)", why,
			 strerror(-i));
		return 0;
	}
	if (bounce) {
		e->path = P2PBUF_IO_PATH_BOUNCE;
		snprintf(e->reason, sizeof(e->reason), "exporter-without-pages");
		file_say(e, "the buffer's exporter gives importers no pages: the kernel reads into pages of its own and copies through the buffer's CPU mapping");
		return 0;
	}
	if (!e->queue_p2p || !e->pci[0]) {
		e->path = P2PBUF_IO_PATH_DIRECT_SYSTEM;
		snprintf(e->reason, sizeof(e->reason), "queue-without-p2p");
		file_say(e, "the block device's queue cannot do PCI P2P DMA (device-mapper, no PCI function, or a driver without it): the device DMAs into the buffer's system pages, if its exporter gives them (else compat)");
		return 0;
	}
	ret = p2pbuf_explain_dmabuf(dmabuf, e->pci, NULL, &e->exporter,
				    exporter, sizeof(exporter));
	if (ret)
		return ret;
	if (e->exporter.map == P2PBUF_MAP_NONE ||
	    e->exporter.map == P2PBUF_MAP_ERROR) {
		const char *word = "other";

		e->path = P2PBUF_IO_PATH_DIRECT_SYSTEM;
		p2pbuf_reason_name(e->exporter.reason, &word);
		p2pbuf__strlcpy(e->reason, word, sizeof(e->reason));
		snprintf(e->text, sizeof(e->text), "direct-system: %s",
			 e->exporter.text);
		return 0;
	}
	e->path = P2PBUF_IO_PATH_P2P;
	snprintf(e->text, sizeof(e->text), "p2p: %.15s DMAs into %.31s's memory: %s",
		 e->pci, exporter, e->exporter.text);
	return 0;
}

int p2pbuf_file_explain(struct p2pbuf_file *f, int dmabuf,
			struct p2pbuf_file_explanation *e)
{
	struct p2pbuf_file_explanation x;
	int ret;

	if (!f || !e)
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(e, sizeof(*e));
	if (ret)
		return ret;
	/* @e stays untouched on failure. */
	ret = file_explain(f, dmabuf, &x);
	if (!ret)
		p2pbuf__struct_out(e, &x, sizeof(x));
	return ret;
}

int p2pbuf_io_path_name(unsigned int path, const char **name)
{
	static const char *const names[] = {
		[P2PBUF_IO_PATH_NONE] = "none",
		[P2PBUF_IO_PATH_P2P] = "p2p",
		[P2PBUF_IO_PATH_DIRECT_SYSTEM] = "direct-system",
		[P2PBUF_IO_PATH_BOUNCE] = "bounce",
		[P2PBUF_IO_PATH_COMPAT] = "compat",
	};

	if (!name || path >= sizeof(names) / sizeof(names[0]))
		return -EINVAL;
	*name = names[path];
	return 0;
}
