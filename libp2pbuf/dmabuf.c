// SPDX-License-Identifier: MIT
/*
 * libp2pbuf: dma-buf descriptors, CPU access, fences and consumer ranges.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/udmabuf.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"

#ifndef DMA_BUF_MAGIC
#define DMA_BUF_MAGIC 0x444d4142	/* "DMAB", include/uapi/linux/magic.h */
#endif

int p2pbuf_dmabuf_check(int fd)
{
	struct statfs sfs;

	if (fd < 0)
		return -EBADF;
	if (fstatfs(fd, &sfs))
		return -errno;
	return sfs.f_type == DMA_BUF_MAGIC ? 0 : -EBADFD;
}

int p2pbuf_dmabuf_size(int fd, uint64_t *size)
{
	struct stat st;
	off_t end;

	if (!size)
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	/* dma-bufs answer SEEK_END with their size and keep no position. */
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return -errno;
	*size = (uint64_t)end;
	return 0;
}

int p2pbuf_udmabuf_create(uint64_t size, int *fd)
{
	long page = sysconf(_SC_PAGESIZE);
	struct udmabuf_create create = { 0 };
	int memfd, dev, out, ret;

	if (!fd || !size || page <= 0)
		return -EINVAL;
	size = (size + (uint64_t)page - 1) & ~((uint64_t)page - 1);
	memfd = memfd_create("p2pbuf-udmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = -errno;
		goto out_memfd;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		goto out_memfd;
	}
	create.memfd = (uint32_t)memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.offset = 0;
	create.size = size;
	out = ioctl(dev, UDMABUF_CREATE, &create);
	ret = out < 0 ? -errno : 0;
	close(dev);
	if (!ret)
		*fd = out;
out_memfd:
	/* The dma-buf holds the memory; the memfd is not needed any more. */
	close(memfd);
	return ret;
}

int p2pbuf_dmabuf_set_name(int fd, const char *name)
{
	if (!name)
		return -EINVAL;
	if (strlen(name) >= P2PBUF_NAME_LEN)
		return -ENAMETOOLONG;
	if (ioctl(fd, DMA_BUF_SET_NAME_B, name))
		return -errno;
	return 0;
}

static int sync_flags(unsigned int access, uint64_t *flags)
{
	if (!access || (access & ~P2PBUF_ACCESS_RW))
		return -EINVAL;
	*flags = 0;
	if (access & P2PBUF_ACCESS_READ)
		*flags |= DMA_BUF_SYNC_READ;
	if (access & P2PBUF_ACCESS_WRITE)
		*flags |= DMA_BUF_SYNC_WRITE;
	return 0;
}

static int dmabuf_sync(int fd, unsigned int access, uint64_t when)
{
	struct dma_buf_sync sync;
	uint64_t flags;
	int ret;

	ret = sync_flags(access, &flags);
	if (ret)
		return ret;
	sync.flags = flags | when;
	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

int p2pbuf_cpu_access_begin(int fd, unsigned int access)
{
	return dmabuf_sync(fd, access, DMA_BUF_SYNC_START);
}

int p2pbuf_cpu_access_end(int fd, unsigned int access)
{
	return dmabuf_sync(fd, access, DMA_BUF_SYNC_END);
}

/*
 * Check that [offset, offset + *length) lies inside dma-buf fd; a zero
 * *length becomes "to the end of the buffer".
 */
static int p2pbuf_dmabuf_range(int fd, uint64_t offset, uint64_t *length)
{
	uint64_t size;
	int ret;

	ret = p2pbuf_dmabuf_size(fd, &size);
	if (ret)
		return ret;
	if (offset >= size)
		return -EINVAL;
	if (!*length)
		*length = size - offset;
	if (*length > size - offset)
		return -EINVAL;
	return 0;
}

int p2pbuf_mmap(int fd, uint64_t offset, uint64_t length, unsigned int access,
		struct p2pbuf_mapping *map)
{
	long page = sysconf(_SC_PAGESIZE);
	struct p2pbuf_mapping m = { .size = sizeof(m) };
	uint64_t range = length;
	int prot = 0, ret;
	void *addr;

	if (!map || !access || (access & ~P2PBUF_ACCESS_RW))
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(map, sizeof(*map));
	if (ret)
		return ret;
	if (page <= 0 || offset % (uint64_t)page)
		return -EINVAL;
	ret = p2pbuf_dmabuf_range(fd, offset, &range);
	if (ret)
		return ret;
	/* "To the end" of a large buffer need not fit a 32-bit size_t. */
	if (range > SIZE_MAX || offset > (uint64_t)INT64_MAX)
		return -EOVERFLOW;
	if (access & P2PBUF_ACCESS_READ)
		prot |= PROT_READ;
	if (access & P2PBUF_ACCESS_WRITE)
		prot |= PROT_WRITE;
	addr = mmap(NULL, (size_t)range, prot, MAP_SHARED, fd, (off_t)offset);
	if (addr == MAP_FAILED)
		return -errno;
	m.addr = addr;
	m.length = (size_t)range;
	m.fd = fd;
	m.access = access;
	p2pbuf__struct_out(map, &m, sizeof(m));
	return 0;
}

int p2pbuf_munmap(struct p2pbuf_mapping *map)
{
	struct p2pbuf_mapping m = { .size = sizeof(m), .fd = -1 };
	int ret;

	if (!map)
		return -EINVAL;
	ret = p2pbuf__struct_in(&m, sizeof(m), map);
	if (ret)
		return ret;
	if (!m.addr || m.pad || !p2pbuf__zero(m.reserved, sizeof(m.reserved)))
		return -EINVAL;
	if (munmap(m.addr, m.length))
		return -errno;
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	p2pbuf__struct_out(map, &m, sizeof(m));
	return 0;
}

int p2pbuf_fence_export(int fd, unsigned int access, int *sync_file)
{
	struct dma_buf_export_sync_file arg = { .fd = -1 };
	uint64_t flags;
	int ret;

	if (!sync_file)
		return -EINVAL;
	ret = sync_flags(access, &flags);
	if (ret)
		return ret;
	arg.flags = (uint32_t)flags;
	if (ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg))
		return -errno;
	*sync_file = arg.fd;
	return 0;
}

int p2pbuf_fence_import(int fd, int sync_file, unsigned int access)
{
	struct dma_buf_import_sync_file arg = { .fd = sync_file };
	uint64_t flags;
	int ret;

	ret = sync_flags(access, &flags);
	if (ret)
		return ret;
	arg.flags = (uint32_t)flags;
	if (ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg))
		return -errno;
	return 0;
}

/* Now on CLOCK_MONOTONIC, in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int p2pbuf_fence_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int ret;

	/*
	 * A dma-buf is readable when its writes are done and writable when
	 * all its fences are: wait for all, as the comment promises.
	 */
	if (!p2pbuf_dmabuf_check(fd))
		pfd.events = POLLOUT;
	ret = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
	if (ret < 0 && errno == EINTR)
		/*
		 * A signal handler ran: the caller decides whether to wait on
		 * (as liburing's waits do); once the deadline has passed the
		 * wait is over all the same.
		 */
		return timeout_ms >= 0 && now_ms() >= deadline ? -ETIME : -EINTR;
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIME;
	if (pfd.revents & POLLNVAL)
		return -EBADF;
	if (pfd.revents & POLLERR)
		return -EIO;
	return 0;
}

int p2pbuf_desc_init(int fd, uint64_t offset, uint64_t length, uint64_t iova,
		     struct p2pbuf_desc *desc)
{
	struct p2pbuf_desc d = { .size = sizeof(d) };
	int ret;

	if (!desc)
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(desc, sizeof(*desc));
	if (ret)
		return ret;
	ret = p2pbuf_dmabuf_range(fd, offset, &length);
	if (ret)
		return ret;
	d.fd = fd;
	d.offset = offset;
	d.length = length;
	d.iova = iova;
	p2pbuf__struct_out(desc, &d, sizeof(d));
	return 0;
}

