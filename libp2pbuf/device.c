// SPDX-License-Identifier: MIT
/*
 * libp2pbuf: DRM devices and the buffers they export.
 *
 * Devices are found with libdrm's drmGetDevices2(), which reads sysfs and
 * opens nothing, and named by their kernel driver (sysfs), or by their DRM
 * driver name (DRM_IOCTL_VERSION on the render node) when no driver is
 * bound; ioctls go through libdrm. Only render nodes are opened, and only
 * the one of the device wanted, except for a dumb buffer's allocation
 * (dumb_create()). p2pgem buffers are created with its own uAPI
 * (include/uapi/drm/p2pgem_drm.h) with a placement; every other driver is
 * driven through dumb buffers, which live in system memory (vgem in the
 * tests).
 *
 * Locking: struct p2pbuf_device.lock protects the device's buffer list and
 * every buffer's reference count. Nothing else is shared.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <xf86drm.h>
#include <drm_mode.h>
#include <drm/p2pgem_drm.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"

#define MAX_DEVICES 64

struct p2pbuf_device {
	int fd;
	int render;	/* @fd is the render node */
	int p2pgem;
	struct p2pbuf_device_info info;
	pthread_mutex_t lock;
	struct p2pbuf_buffer *buffers;
};

struct p2pbuf_buffer {
	struct p2pbuf_device *dev;
	uint32_t handle;
	uint64_t size;
	unsigned int placement;
	unsigned int refs;
	struct p2pbuf_buffer *next;
};

/* Exactly @min to @max hex digits at @s, then @end: their value, or -1. */
static long hex_field(const char *s, size_t min, size_t max, char end,
		      const char **next)
{
	long v = 0;
	size_t n;

	for (n = 0; n < max && isxdigit((unsigned char)s[n]); n++)
		v = v * 16 + (isdigit((unsigned char)s[n]) ? s[n] - '0' :
			      (s[n] | 0x20) - 'a' + 10);
	if (n < min || s[n] != end)
		return -1;
	*next = s + n + (end ? 1 : 0);
	return v;
}

int p2pbuf__pci_address(const char *s, char out[16])
{
	long d = 0, b, dev, f;
	const char *p;

	if (!s)
		return -EINVAL;
	/*
	 * "DOMAIN:BB:DD.F" or "BB:DD.F", hex digits only: no sign, space or
	 * 0x. Domains have 4 digits, or 5 and 6 beyond 0xffff (Intel VMD
	 * puts its NVMe drives at 10000:e1:00.0).
	 */
	p = s;
	if (strchr(s, ':') != strrchr(s, ':')) {
		d = hex_field(p, 4, 6, ':', &p);
		if (d < 0 || (p - s > 5 && s[0] == '0'))
			return -EINVAL;
	}
	b = hex_field(p, 2, 2, ':', &p);
	dev = b < 0 ? -1 : hex_field(p, 2, 2, '.', &p);
	f = dev < 0 ? -1 : hex_field(p, 1, 1, '\0', &p);
	if (f < 0 || dev > 0x1f || f > 7)
		return -EINVAL;
	snprintf(out, 16, "%04x:%02x:%02x.%x", (unsigned int)d & 0xffffff,
		 (unsigned int)b & 0xff, (unsigned int)dev & 0x1f,
		 (unsigned int)f & 7);
	return 0;
}

/*
 * What sysfs says of the device behind DRM node @node
 * (/sys/dev/char/MAJOR:MINOR/device): the kernel driver bound to it, and
 * for a PCI device its address, which libdrm keeps in 16 bits of domain.
 * Fields sysfs has nothing for (no driver bound: vgem; @node not a device
 * node) are left alone.
 */
static void sysfs_describe(const char *node, int pci,
			   struct p2pbuf_device_info *info)
{
	char path[64], link[PATH_MAX], *base;
	struct stat st;
	ssize_t n;

	if (stat(node, &st) || !S_ISCHR(st.st_mode))
		return;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device/driver",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		base = strrchr(link, '/');
		p2pbuf__strlcpy(info->driver, base ? base + 1 : link,
				sizeof(info->driver));
	}
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (pci && n > 0) {
		link[n] = '\0';
		base = strrchr(link, '/');
		p2pbuf__pci_address(base ? base + 1 : link, info->pci_address);
	}
}

/*
 * Whether to ask the driver itself, through the render node only (opening
 * one never makes the caller DRM master): for its DRM name when sysfs has
 * none, and for its VRAM when it is p2pgem. Devices sysfs names another
 * driver for are not opened at all, so that listing wakes no
 * runtime-suspended GPU.
 */
static int needs_query(const struct p2pbuf_device_info *info)
{
	return info->render_node[0] &&
	       (!info->driver[0] || !strcmp(info->driver, "p2pgem"));
}

/* The asking itself, on @fd, the device's render node. */
static void query_fd(int fd, struct p2pbuf_device_info *info)
{
	struct drm_p2pgem_device_info vram = { 0 };
	drmVersionPtr version;

	version = drmGetVersion(fd);
	if (version) {
		if (version->name && version->name[0])
			p2pbuf__strlcpy(info->driver, version->name,
					sizeof(info->driver));
		drmFreeVersion(version);
	}
	if (!strcmp(info->driver, "p2pgem") &&
	    !drmIoctl(fd, DRM_IOCTL_P2PGEM_DEVICE_INFO, &vram)) {
		info->vram_size = vram.vram_size;
		info->visible_vram_size = vram.visible_size;
	}
}

static void query_driver(struct p2pbuf_device_info *info)
{
	int fd;

	if (!needs_query(info))
		return;
	fd = open(info->render_node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	query_fd(fd, info);
	close(fd);
}

/* What libdrm says of one device, without opening any of its nodes. */
static void describe_device(const drmDevice *d, struct p2pbuf_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if ((d->available_nodes & (1 << DRM_NODE_PRIMARY)) &&
	    d->nodes[DRM_NODE_PRIMARY])
		p2pbuf__strlcpy(info->primary_node, d->nodes[DRM_NODE_PRIMARY],
				sizeof(info->primary_node));
	if ((d->available_nodes & (1 << DRM_NODE_RENDER)) &&
	    d->nodes[DRM_NODE_RENDER])
		p2pbuf__strlcpy(info->render_node, d->nodes[DRM_NODE_RENDER],
				sizeof(info->render_node));
	if (d->bustype == DRM_BUS_PCI && d->businfo.pci)
		snprintf(info->pci_address, sizeof(info->pci_address),
			 "%04x:%02x:%02x.%x", d->businfo.pci->domain,
			 d->businfo.pci->bus, d->businfo.pci->dev,
			 d->businfo.pci->func);
	sysfs_describe(info->render_node[0] ? info->render_node :
		       info->primary_node, d->bustype == DRM_BUS_PCI, info);
}

/* Order devices as their first node: card0 before card1 before card10. */
static int device_order(const void *a, const void *b)
{
	const struct p2pbuf_device_info *x = a, *y = b;

	return strverscmp(x->primary_node[0] ? x->primary_node : x->render_node,
			  y->primary_node[0] ? y->primary_node : y->render_node);
}

/* The devices, in node order, as libdrm and sysfs describe them. */
static int enumerate(struct p2pbuf_device_info found[MAX_DEVICES],
		     unsigned int *count)
{
	drmDevicePtr drm[MAX_DEVICES];
	unsigned int n = 0;
	int total;

	/* libdrm reads sysfs: no device node is opened to enumerate. */
	total = drmGetDevices2(0, drm, MAX_DEVICES);
	if (total < 0)
		return total == -ENOENT ? -ENODEV : total;
	if (total > MAX_DEVICES)
		total = MAX_DEVICES;
	for (int i = 0; i < total; i++) {
		if (drm[i]->available_nodes &
		    (1 << DRM_NODE_PRIMARY | 1 << DRM_NODE_RENDER))
			describe_device(drm[i], &found[n++]);
	}
	drmFreeDevices(drm, total);
	if (!n)
		return -ENODEV;
	qsort(found, n, sizeof(found[0]), device_order);
	*count = n;
	return 0;
}

int p2pbuf_device_list(struct p2pbuf_device_info *devs, unsigned int max,
		       unsigned int *count)
{
	struct p2pbuf_device_info found[MAX_DEVICES];
	unsigned int n;
	int ret;

	if (!count || (max && !devs))
		return -EINVAL;
	if (max) {
		ret = p2pbuf__struct_out_ok(devs, sizeof(*devs));
		if (ret)
			return ret;
	}
	ret = enumerate(found, &n);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n && i < max; i++) {
		uint32_t stride = devs->size;
		struct p2pbuf_device_info *e = P2PBUF__ELEM(devs, i, stride);

		query_driver(&found[i]);
		memcpy(&e->size, &stride, sizeof(stride));
		p2pbuf__struct_out(e, &found[i], sizeof(found[i]));
	}
	*count = n;
	return 0;
}

static int matches(const struct p2pbuf_device_info *info, const char *name,
		   const char *pci)
{
	if (pci[0])
		return !strcmp(info->pci_address, pci);
	if (name[0] == '/')
		return !strcmp(info->primary_node, name) ||
		       !strcmp(info->render_node, name);
	return !strcmp(info->driver, name);
}

/*
 * The end of opening @dev, whose descriptor is open and info filled:
 * handed out in *@devp, or closed and freed (-ENODEV when
 * P2PBUF_DEVICE_P2PGEM in @flags and it is not p2pgem).
 */
static int device_ready(struct p2pbuf_device *dev, unsigned int flags,
			struct p2pbuf_device **devp)
{
	int ret;

	dev->p2pgem = !strcmp(dev->info.driver, "p2pgem");
	if ((flags & P2PBUF_DEVICE_P2PGEM) && !dev->p2pgem)
		ret = -ENODEV;
	else
		ret = -pthread_mutex_init(&dev->lock, NULL);
	if (ret) {
		close(dev->fd);
		free(dev);
		return ret;
	}
	*devp = dev;
	return 0;
}

int p2pbuf_device_open(const char *name, struct p2pbuf_device **devp)
{
	struct p2pbuf_device_info infos[MAX_DEVICES];
	struct p2pbuf_device *dev;
	unsigned int n, i;
	char pci[16] = "";
	int ret;

	if (!name || !devp)
		return -EINVAL;
	p2pbuf__pci_address(name, pci);
	ret = enumerate(infos, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		/*
		 * A device is asked its name only when it is wanted by name
		 * and sysfs does not say it (vgem).
		 */
		if (!pci[0] && name[0] != '/' && !infos[i].driver[0])
			query_driver(&infos[i]);
		if (matches(&infos[i], name, pci))
			break;
	}
	if (i == n)
		return -ENODEV;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->info = infos[i];
	/*
	 * The render node of the device wanted, and only that: it never
	 * makes us DRM master. A device without one has only its primary
	 * node. Dumb buffers need the primary node: dumb_create() opens it
	 * for the allocation alone.
	 */
	dev->render = dev->info.render_node[0] != '\0';
	dev->fd = open(dev->render ? dev->info.render_node :
		       dev->info.primary_node, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	/* As p2pbuf_device_list() would say, on the descriptor just opened. */
	if (dev->render && needs_query(&dev->info))
		query_fd(dev->fd, &dev->info);
	return device_ready(dev, 0, devp);

err_free:
	free(dev);
	return ret;
}

int p2pbuf_device_from_fd(int fd, unsigned int flags, struct p2pbuf_device **devp)
{
	struct p2pbuf_device *dev;
	drmDevicePtr d = NULL;
	struct stat st;
	int type, ret;

	if (!devp || (flags & ~P2PBUF_DEVICE_P2PGEM))
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	/* libdrm asks sysfs whether the character device is a DRM minor. */
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	type = drmGetNodeTypeFromFd(fd);
	if (type != DRM_NODE_PRIMARY && type != DRM_NODE_RENDER)
		return -ENOTTY;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->info.size = sizeof(dev->info);
	/* Described as p2pbuf_device_list() would: sysfs, then the driver. */
	if (!drmGetDevice2(fd, 0, &d)) {
		describe_device(d, &dev->info);
		drmFreeDevice(&d);
	}
	dev->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dev->fd < 0) {
		ret = -errno;
		free(dev);
		return ret;
	}
	dev->render = type == DRM_NODE_RENDER;
	if (!dev->info.driver[0] || !strcmp(dev->info.driver, "p2pgem"))
		query_fd(dev->fd, &dev->info);
	return device_ready(dev, flags, devp);
}

int p2pbuf_device_close(struct p2pbuf_device *dev)
{
	int busy;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	busy = dev->buffers != NULL;
	pthread_mutex_unlock(&dev->lock);
	if (busy)
		return -EBUSY;
	pthread_mutex_destroy(&dev->lock);
	close(dev->fd);
	free(dev);
	return 0;
}

int p2pbuf_device_query(const struct p2pbuf_device *dev,
			struct p2pbuf_device_info *info)
{
	int ret;

	if (!dev || !info)
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(info, sizeof(*info));
	if (ret)
		return ret;
	p2pbuf__struct_out(info, &dev->info, sizeof(dev->info));
	return 0;
}

/* The name before 0.3, where C++ saw it hide the structure: the same code. */
int p2pbuf_device_info(const struct p2pbuf_device *dev,
		       struct p2pbuf_device_info *info)
	__attribute__((alias("p2pbuf_device_query")));

static void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close arg = { .handle = handle };

	drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &arg);
}

/* Find @handle or add it with one reference; called with dev->lock held. */
static int buffer_lookup(struct p2pbuf_device *dev, uint32_t handle,
			 uint64_t size, unsigned int placement,
			 struct p2pbuf_buffer **bufp)
{
	struct p2pbuf_buffer *buf;

	for (buf = dev->buffers; buf; buf = buf->next) {
		if (buf->handle == handle) {
			buf->refs++;
			*bufp = buf;
			return 0;
		}
	}
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	buf->dev = dev;
	buf->handle = handle;
	buf->size = size;
	buf->placement = placement;
	buf->refs = 1;
	buf->next = dev->buffers;
	dev->buffers = buf;
	*bufp = buf;
	return 0;
}

static int p2pgem_alloc(struct p2pbuf_device *dev, uint64_t size,
			unsigned int placement, unsigned int flags,
			struct p2pbuf_buffer **bufp)
{
	struct drm_p2pgem_gem_create create = { .size = size };
	int ret;

	switch (placement) {
	case P2PBUF_PLACEMENT_ANY:
		create.placement = P2PGEM_PLACEMENT_VRAM_PREFERRED;
		break;
	case P2PBUF_PLACEMENT_VRAM:
		create.placement = P2PGEM_PLACEMENT_VRAM;
		break;
	default:
		create.placement = P2PGEM_PLACEMENT_SYSTEM;
		break;
	}
	if (flags & P2PBUF_ALLOC_CONTIGUOUS)
		create.flags |= P2PGEM_CREATE_CONTIGUOUS;
	if (flags & P2PBUF_ALLOC_CPU_ACCESS)
		create.flags |= P2PGEM_CREATE_CPU_ACCESS;
	/* The flags need VRAM; say so rather than pass the kernel's -EINVAL. */
	if (create.flags && placement == P2PBUF_PLACEMENT_SYSTEM)
		return -EOPNOTSUPP;
	if (drmIoctl(dev->fd, DRM_IOCTL_P2PGEM_GEM_CREATE, &create))
		return -errno;

	pthread_mutex_lock(&dev->lock);
	ret = buffer_lookup(dev, create.handle, size, placement, bufp);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		gem_close(dev->fd, create.handle);
	return ret;
}

/*
 * A dumb buffer, as a handle on @dev->fd. The kernel allows
 * DRM_IOCTL_MODE_CREATE_DUMB on primary nodes only: with a render node open,
 * the primary node is opened for this allocation alone (giving up DRM
 * master at once if opening it made us master), the buffer made there and
 * passed to the render node through a dma-buf.
 */
static int dumb_create(struct p2pbuf_device *dev,
		       struct drm_mode_create_dumb *create, uint32_t *handle)
{
	int primary, prime, ret = 0;

	if (!dev->render) {
		if (drmIoctl(dev->fd, DRM_IOCTL_MODE_CREATE_DUMB, create))
			return -errno;
		*handle = create->handle;
		return 0;
	}
	if (!dev->info.primary_node[0])
		return -EOPNOTSUPP;
	primary = open(dev->info.primary_node, O_RDWR | O_CLOEXEC);
	if (primary < 0)
		return -errno;
	if (drmIsMaster(primary))
		drmDropMaster(primary);
	if (drmIoctl(primary, DRM_IOCTL_MODE_CREATE_DUMB, create)) {
		ret = -errno;
		goto out;
	}
	if (drmPrimeHandleToFD(primary, create->handle, DRM_CLOEXEC | DRM_RDWR,
			       &prime)) {
		ret = -errno;
	} else {
		if (drmPrimeFDToHandle(dev->fd, prime, handle))
			ret = -errno;
		close(prime);
	}
	gem_close(primary, create->handle);
out:
	close(primary);
	return ret;
}

int p2pbuf_buffer_alloc(struct p2pbuf_device *dev, uint64_t size,
			unsigned int placement, unsigned int flags,
			struct p2pbuf_buffer **bufp)
{
	struct drm_mode_create_dumb create = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	uint32_t handle;
	int ret;

	if (!dev || !bufp || !size || placement > P2PBUF_PLACEMENT_SYSTEM ||
	    (flags & ~(P2PBUF_ALLOC_CONTIGUOUS | P2PBUF_ALLOC_CPU_ACCESS)) ||
	    page <= 0)
		return -EINVAL;
	if (size > UINT64_MAX - (uint64_t)page)
		return -E2BIG;
	size = (size + (uint64_t)page - 1) & ~((uint64_t)page - 1);
	if (dev->p2pgem)
		return p2pgem_alloc(dev, size, placement, flags, bufp);
	/* Dumb buffers: system memory, nothing to ask for. */
	if (placement == P2PBUF_PLACEMENT_VRAM || flags)
		return -EOPNOTSUPP;
	size /= (uint64_t)page;
	if (size > UINT32_MAX)
		return -E2BIG;
	/* One byte per pixel, one page per row: exactly @size bytes. */
	create.width = (uint32_t)page;
	create.height = (uint32_t)size;
	create.bpp = 8;
	ret = dumb_create(dev, &create, &handle);
	if (ret)
		return ret;

	pthread_mutex_lock(&dev->lock);
	ret = buffer_lookup(dev, handle, create.size,
			    P2PBUF_PLACEMENT_SYSTEM, bufp);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		gem_close(dev->fd, handle);
	return ret;
}

int p2pbuf_buffer_import(struct p2pbuf_device *dev, int fd,
			 struct p2pbuf_buffer **bufp)
{
	uint32_t handle;
	uint64_t size;
	int ret;

	if (!dev || !bufp)
		return -EINVAL;
	ret = p2pbuf_dmabuf_check(fd);
	if (ret)
		return ret;
	ret = p2pbuf_dmabuf_size(fd, &size);
	if (ret)
		return ret;
	/*
	 * The lock spans the import so that a concurrent last put cannot
	 * close the handle the kernel is handing back to us.
	 */
	pthread_mutex_lock(&dev->lock);
	if (drmPrimeFDToHandle(dev->fd, fd, &handle)) {
		ret = -errno;
		pthread_mutex_unlock(&dev->lock);
		return ret;
	}
	ret = buffer_lookup(dev, handle, size, P2PBUF_PLACEMENT_SYSTEM, bufp);
	if (ret)
		gem_close(dev->fd, handle);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int p2pbuf_buffer_export(const struct p2pbuf_buffer *buf, int *fd)
{
	int out;

	if (!buf || !fd)
		return -EINVAL;
	if (drmPrimeHandleToFD(buf->dev->fd, buf->handle, DRM_CLOEXEC | DRM_RDWR,
			       &out))
		return -errno;
	*fd = out;
	return 0;
}

int p2pbuf_buffer_get(struct p2pbuf_buffer *buf)
{
	if (!buf)
		return -EINVAL;
	pthread_mutex_lock(&buf->dev->lock);
	buf->refs++;
	pthread_mutex_unlock(&buf->dev->lock);
	return 0;
}

int p2pbuf_buffer_put(struct p2pbuf_buffer *buf)
{
	struct p2pbuf_device *dev;
	struct p2pbuf_buffer **pp;
	int last;

	if (!buf)
		return -EINVAL;
	dev = buf->dev;
	pthread_mutex_lock(&dev->lock);
	last = --buf->refs == 0;
	if (last) {
		for (pp = &dev->buffers; *pp; pp = &(*pp)->next) {
			if (*pp == buf) {
				*pp = buf->next;
				break;
			}
		}
		gem_close(dev->fd, buf->handle);
	}
	pthread_mutex_unlock(&dev->lock);
	if (last)
		free(buf);
	return 0;
}

int p2pbuf_buffer_size(const struct p2pbuf_buffer *buf, uint64_t *size)
{
	if (!buf || !size)
		return -EINVAL;
	*size = buf->size;
	return 0;
}

static unsigned int from_p2pgem(uint32_t placement)
{
	switch (placement) {
	case P2PGEM_PLACEMENT_VRAM:
		return P2PBUF_PLACEMENT_VRAM;
	case P2PGEM_PLACEMENT_SYSTEM:
		return P2PBUF_PLACEMENT_SYSTEM;
	default:
		return P2PBUF_PLACEMENT_ANY;
	}
}

int p2pbuf_buffer_query(const struct p2pbuf_buffer *buf,
			struct p2pbuf_buffer_info *info)
{
	struct drm_p2pgem_gem_info gi = { 0 };
	struct p2pbuf_buffer_info out = { .size = sizeof(out) };
	int ret;

	if (!buf || !info)
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(info, sizeof(*info));
	if (ret)
		return ret;
	out.buf_size = buf->size;
	out.placement = P2PBUF_PLACEMENT_SYSTEM;
	out.requested_placement = buf->placement;
	gi.handle = buf->handle;
	/* A p2pgem import of another exporter's dma-buf: -EOPNOTSUPP. */
	if (buf->dev->p2pgem &&
	    drmIoctl(buf->dev->fd, DRM_IOCTL_P2PGEM_GEM_INFO, &gi)) {
		if (errno != EOPNOTSUPP)
			return -errno;
	} else if (buf->dev->p2pgem) {
		out.buf_size = gi.size;
		out.placement = from_p2pgem(gi.placement);
		out.requested_placement = gi.requested_placement ==
			P2PGEM_PLACEMENT_VRAM_PREFERRED ? P2PBUF_PLACEMENT_ANY :
			from_p2pgem(gi.requested_placement);
		if (gi.create_flags & P2PGEM_CREATE_CONTIGUOUS)
			out.flags |= P2PBUF_ALLOC_CONTIGUOUS;
		if (gi.create_flags & P2PGEM_CREATE_CPU_ACCESS)
			out.flags |= P2PBUF_ALLOC_CPU_ACCESS;
		out.move_count = gi.move_count;
		out.pin_count = gi.pin_count;
		out.attachments = gi.attachments;
		out.cpu_visible = gi.cpu_visible;
	}
	p2pbuf__struct_out(info, &out, sizeof(out));
	return 0;
}

int p2pbuf_buffer_placement(const struct p2pbuf_buffer *buf,
			    unsigned int *placement)
{
	struct p2pbuf_buffer_info info = { .size = sizeof(info) };
	int ret;

	if (!placement)
		return -EINVAL;
	ret = p2pbuf_buffer_query(buf, &info);
	if (ret)
		return ret;
	*placement = info.placement;
	return 0;
}

/* p2pgem's answer (P2PGEM_P2P_*) as an enum p2pbuf_reason; 0: reachable. */
static int from_p2pgem_reason(uint32_t reason)
{
	switch (reason) {
	case P2PGEM_P2P_SYSTEM_PLACEMENT:
		return P2PBUF_REASON_IN_SYSTEM_MEMORY;
	case P2PGEM_P2P_PINNED_SYSTEM:
		return P2PBUF_REASON_PINNED_IN_SYSTEM_MEMORY;
	case P2PGEM_P2P_TOO_BIG:
		return P2PBUF_REASON_LARGER_THAN_VISIBLE;
	case P2PGEM_P2P_NO_P2PDMA:
		return P2PBUF_REASON_NO_P2PDMA_KERNEL;
	default:
		/* Reachability itself: the device-level verdict says it. */
		return 0;
	}
}

/*
 * Ask p2pgem device @dev_fd about a buffer (a GEM handle, or a dma-buf fd
 * with P2PGEM_P2P_QUERY_DMABUF_FD) and PCI function @client: 0 and
 * @q->reason filled, or -errno.
 */
static int p2pgem_query(int dev_fd, uint32_t handle, uint32_t flags,
			const char *client, struct drm_p2pgem_gem_p2p_query *q)
{
	unsigned int domain, bus, dev, fn;
	char addr[16];

	if (p2pbuf__pci_address(client, addr) ||
	    sscanf(addr, "%x:%x:%x.%x", &domain, &bus, &dev, &fn) != 4)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->handle = handle;
	q->flags = flags;
	q->domain = domain;
	q->bus = bus;
	q->devfn = dev << 3 | fn;
	return drmIoctl(dev_fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, q) ? -errno : 0;
}

int p2pbuf_explain_buffer(const struct p2pbuf_buffer *buf, const char *client,
			  const struct p2pbuf_explain_source *src,
			  struct p2pbuf_explanation *out)
{
	struct drm_p2pgem_gem_p2p_query q;
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	struct p2pbuf_buffer_info info = { .size = sizeof(info) };
	int ret;

	if (!buf || !client || !out)
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(out, sizeof(*out));
	if (ret)
		return ret;
	if (!buf->dev->info.pci_address[0])
		return -ENODEV;
	ret = p2pbuf_explain(buf->dev->info.pci_address, client, src, &e);
	if (ret)
		return ret;
	ret = p2pbuf_buffer_query(buf, &info);
	if (ret)
		return ret;
	/* p2pgem says itself what the buffer rules out; others: where it is. */
	ret = -ENOTTY;
	if (buf->dev->p2pgem &&
	    !p2pgem_query(buf->dev->fd, buf->handle, 0, client, &q))
		ret = from_p2pgem_reason(q.reason);
	if (ret == -ENOTTY && info.placement != P2PBUF_PLACEMENT_VRAM)
		ret = info.pin_count ? P2PBUF_REASON_PINNED_IN_SYSTEM_MEMORY :
			P2PBUF_REASON_IN_SYSTEM_MEMORY;
	p2pbuf__explain_rule_out(&e, ret, buf->dev->info.pci_address, client);
	p2pbuf__struct_out(out, &e, sizeof(e));
	return 0;
}

/* The exporter name of dma-buf @fd of this thread ("drm", "udmabuf", ...). */
static int dmabuf_exporter(int fd, struct p2pbuf_dmabuf_info *info)
{
	char path[64], text[4096];
	int ret;

	/* thread-self: the calling thread's descriptor table, even unshared. */
	snprintf(path, sizeof(path), "/proc/thread-self/fdinfo/%d", fd);
	ret = p2pbuf__read_file(path, text, sizeof(text));
	if (ret)
		return ret;
	ret = p2pbuf_fdinfo_parse(text, info);
	return ret == -ENOENT ? -EBADFD : ret;
}

/*
 * The p2pgem device that exported dma-buf @fd, and its answer for @client
 * in @q: each p2pgem device is asked with P2PGEM_P2P_QUERY_DMABUF_FD, which
 * only the exporter answers and which imports nothing. A device that
 * cannot be opened or asked (permissions, an older p2pgem) is passed over.
 * -ENODEV when none claims the buffer.
 */
static int p2pgem_owner(int fd, const char *client,
			struct p2pbuf_device_info *owner,
			struct drm_p2pgem_gem_p2p_query *q)
{
	struct p2pbuf_device_info infos[MAX_DEVICES];
	unsigned int n, i;
	int ret, dev_fd;

	infos[0].size = sizeof(infos[0]);
	ret = p2pbuf_device_list(infos, MAX_DEVICES, &n);
	if (ret)
		return ret;
	for (i = 0; i < n && i < MAX_DEVICES; i++) {
		if (strcmp(infos[i].driver, "p2pgem") || !infos[i].pci_address[0] ||
		    !infos[i].render_node[0])
			continue;
		dev_fd = open(infos[i].render_node, O_RDWR | O_CLOEXEC);
		if (dev_fd < 0)
			continue;
		ret = p2pgem_query(dev_fd, (uint32_t)fd,
				   P2PGEM_P2P_QUERY_DMABUF_FD, client, q);
		close(dev_fd);
		/* -ENODEV: its buffer, but no such client: explain says so. */
		if (!ret || ret == -ENODEV) {
			if (ret)
				q->reason = P2PGEM_P2P_OK;
			*owner = infos[i];
			return 0;
		}
	}
	return -ENODEV;
}

int p2pbuf_explain_dmabuf(int fd, const char *client,
			  const struct p2pbuf_explain_source *src,
			  struct p2pbuf_explanation *out, char *exporter,
			  size_t len)
{
	struct p2pbuf_dmabuf_info di = { .size = sizeof(di) };
	struct drm_p2pgem_gem_p2p_query q;
	struct p2pbuf_device_info owner;
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	struct p2pbuf_explain_source s;
	char pci[16];
	int ret;

	if (!client || !out || (len && !exporter) ||
	    p2pbuf__pci_address(client, pci))
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(out, sizeof(*out));
	if (ret)
		return ret;
	ret = p2pbuf__explain_source_in(src, &s);
	if (ret)
		return ret;
	ret = p2pbuf_dmabuf_check(fd);
	if (ret)
		return ret;
	ret = dmabuf_exporter(fd, &di);
	if (ret)
		return ret;
	if (!strcmp(di.exporter, "udmabuf")) {
		/* memfd pages: system memory, whoever imports it. */
		memset(&e, 0, sizeof(e));
		e.size = sizeof(e);
		e.distance = -1;
		e.provider_iommu_group = -1;
		e.client_iommu_group = -1;
		e.kernel_p2pdma = -1;
		e.kernel_move_notify = -1;
		p2pbuf__explain_rule_out(&e, P2PBUF_REASON_IN_SYSTEM_MEMORY,
					 di.exporter, pci);
		if (len)
			p2pbuf__strlcpy(exporter, di.exporter, len);
		p2pbuf__struct_out(out, &e, sizeof(e));
		return 0;
	}
	/* GEM drivers all export as "drm": the p2pgem devices say if theirs. */
	if (strcmp(di.exporter, "drm"))
		return -ENODEV;
	ret = p2pgem_owner(fd, pci, &owner, &q);
	if (ret)
		return ret;
	ret = p2pbuf_explain(owner.pci_address, pci, src, &e);
	if (ret)
		return ret;
	p2pbuf__explain_rule_out(&e, from_p2pgem_reason(q.reason),
				 owner.pci_address, pci);
	if (len)
		p2pbuf__strlcpy(exporter, owner.pci_address, len);
	p2pbuf__struct_out(out, &e, sizeof(e));
	return 0;
}
