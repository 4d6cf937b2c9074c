// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: the ioctls of the render node.
 *
 * Every handler checks every field before acting: flags and padding must
 * be zero (-EINVAL), handles must name an object of the file (-ENOENT).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/sched.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>
#include <drm/p2pgem_drm.h>

#include "p2pgem_bo.h"
#include "p2pgem_dma_buf.h"
#include "p2pgem_import.h"
#include "p2pgem_ioctl.h"
#include "p2pgem_placement.h"
#include "p2pgem_vram_mgr.h"

static struct p2pgem_device *to_p2p(struct drm_device *drm)
{
	return container_of(drm, struct p2pgem_device, drm);
}

/*
 * A buffer object of this device by handle: -ENOENT, or -EOPNOTSUPP for
 * an imported dma-buf of another exporter.
 */
static struct p2pgem_bo *p2pgem_lookup_bo(struct drm_file *file, u32 handle)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);

	if (!obj)
		return ERR_PTR(-ENOENT);
	if (p2pgem_gem_is_import(obj)) {
		drm_gem_object_put(obj);
		return ERR_PTR(-EOPNOTSUPP);
	}
	return gem_to_p2pgem_bo(obj);
}

static void p2pgem_put_bo(struct p2pgem_bo *bo)
{
	drm_gem_object_put(&bo->tbo.base);
}

static int p2pgem_ioctl_gem_create(struct drm_device *drm, void *data,
				   struct drm_file *file)
{
	struct drm_p2pgem_gem_create *args = data;
	struct p2pgem_device *p2p = to_p2p(drm);
	struct p2pgem_bo *bo;
	u32 handle;
	int idx, ret;

	if (args->pad)
		return -EINVAL;
	ret = p2pgem_check_create(args->size, args->placement, args->flags,
				  p2p->vram_size, p2p->visible_size,
				  (u64)totalram_pages() << PAGE_SHIFT);
	if (ret)
		return ret;

	/* Creating places the buffer object: a move on the copy engine. */
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	ret = p2pgem_bo_create(p2p, PAGE_ALIGN(args->size), args->placement,
			       args->flags, &bo);
	drm_dev_exit(idx);
	if (ret)
		return ret;
	ret = drm_gem_handle_create(file, &bo->tbo.base, &handle);
	/* The handle holds the object now, or it goes away. */
	drm_gem_object_put(&bo->tbo.base);
	if (ret)
		return ret;
	args->handle = handle;
	return 0;
}

static int p2pgem_ioctl_gem_mmap_offset(struct drm_device *drm, void *data,
					struct drm_file *file)
{
	struct drm_p2pgem_gem_mmap_offset *args = data;
	struct p2pgem_bo *bo;

	if (args->flags)
		return -EINVAL;
	bo = p2pgem_lookup_bo(file, args->handle);
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	args->offset = drm_vma_node_offset_addr(&bo->tbo.base.vma_node);
	p2pgem_put_bo(bo);
	return 0;
}

static int p2pgem_ioctl_gem_info(struct drm_device *drm, void *data,
				 struct drm_file *file)
{
	struct drm_p2pgem_gem_info *args = data;
	struct p2pgem_bo *bo;
	int ret;

	if (args->flags)
		return -EINVAL;
	bo = p2pgem_lookup_bo(file, args->handle);
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	ret = p2pgem_bo_info(bo, args);
	p2pgem_put_bo(bo);
	return ret;
}

static int p2pgem_ioctl_gem_wait(struct drm_device *drm, void *data,
				 struct drm_file *file)
{
	struct drm_p2pgem_gem_wait *args = data;
	struct drm_gem_object *obj;
	unsigned long timeout;
	long ret;

	if (args->flags || args->timeout_ns < 0)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;

	if (!args->timeout_ns) {
		ret = dma_resv_test_signaled(obj->resv,
					     DMA_RESV_USAGE_BOOKKEEP) ? 0 : -EBUSY;
		goto out_put;
	}
	/* At least one jiffy: a zero timeout means polling to the resv. */
	timeout = clamp_t(u64, nsecs_to_jiffies64(args->timeout_ns), 1,
			  MAX_SCHEDULE_TIMEOUT);
	ret = dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_BOOKKEEP, true,
				    timeout);
	if (ret == 0)
		ret = -ETIME;
	else if (ret > 0)
		ret = 0;
out_put:
	drm_gem_object_put(obj);
	return ret;
}

static int p2pgem_ioctl_device_info(struct drm_device *drm, void *data,
				    struct drm_file *file)
{
	struct drm_p2pgem_device_info *args = data;
	struct p2pgem_device *p2p = to_p2p(drm);

	if (args->flags || args->pad)
		return -EINVAL;
	args->vram_size = p2p->vram_size;
	args->visible_size = p2p->visible_size;
	p2pgem_vram_mgr_usage(&p2p->vram_mgr, &args->vram_used,
			      &args->visible_used);
	args->evictions = atomic64_read(&p2p->evictions);
	args->moves = atomic64_read(&p2p->moves);
	args->pin_quota = p2p->pin_quota;
	args->pinned_vram = atomic64_read(&p2p->pinned_vram);
	return 0;
}

static int p2pgem_ioctl_gem_evict(struct drm_device *drm, void *data,
				  struct drm_file *file)
{
	struct drm_p2pgem_gem_evict *args = data;
	struct p2pgem_bo *bo;
	int idx, ret;

	if (args->flags)
		return -EINVAL;
	bo = p2pgem_lookup_bo(file, args->handle);
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	ret = -ENODEV;
	if (drm_dev_enter(drm, &idx)) {
		ret = p2pgem_bo_evict(bo);
		drm_dev_exit(idx);
	}
	p2pgem_put_bo(bo);
	return ret;
}

static int p2pgem_ioctl_gem_p2p_query(struct drm_device *drm, void *data,
				      struct drm_file *file)
{
	struct drm_p2pgem_gem_p2p_query *args = data;
	struct pci_dev *client;
	struct p2pgem_bo *bo;
	int ret;

	if ((args->flags & ~P2PGEM_P2P_QUERY_DMABUF_FD) || args->pad ||
	    args->bus > 0xff || args->devfn > 0xff)
		return -EINVAL;
	if (args->flags & P2PGEM_P2P_QUERY_DMABUF_FD) {
		if (args->handle > INT_MAX)
			return -EBADF;
		bo = p2pgem_dma_buf_fd_bo(drm, args->handle);
	} else {
		bo = p2pgem_lookup_bo(file, args->handle);
	}
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	client = pci_get_domain_bus_and_slot(args->domain, args->bus,
					     args->devfn);
	if (!client) {
		ret = -ENODEV;
		goto out_put;
	}
	ret = p2pgem_bo_p2p_query(bo, client, &args->reason, &args->distance);
	pci_dev_put(client);
out_put:
	p2pgem_put_bo(bo);
	return ret;
}

static int p2pgem_ioctl_gem_copy(struct drm_device *drm, void *data,
				 struct drm_file *file)
{
	return p2pgem_copy_ioctl(to_p2p(drm), file, data);
}

const struct drm_ioctl_desc p2pgem_ioctls[P2PGEM_NUM_IOCTLS] = {
	DRM_IOCTL_DEF_DRV(P2PGEM_GEM_CREATE, p2pgem_ioctl_gem_create,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGEM_GEM_MMAP_OFFSET, p2pgem_ioctl_gem_mmap_offset,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGEM_GEM_INFO, p2pgem_ioctl_gem_info,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGEM_GEM_WAIT, p2pgem_ioctl_gem_wait,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGEM_DEVICE_INFO, p2pgem_ioctl_device_info,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGEM_GEM_EVICT, p2pgem_ioctl_gem_evict,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGEM_GEM_P2P_QUERY, p2pgem_ioctl_gem_p2p_query,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PGEM_GEM_COPY, p2pgem_ioctl_gem_copy,
			  DRM_RENDER_ALLOW),
};
