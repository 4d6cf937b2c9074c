/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: other exporters' dma-bufs, and copies between buffers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_IMPORT_H_
#define _P2PGEM_IMPORT_H_

#include <linux/types.h>

#include "p2pgem_types.h"

struct dma_buf;
struct drm_device;
struct drm_file;
struct drm_gem_object;
struct drm_p2pgem_gem_copy;

bool p2pgem_gem_is_import(struct drm_gem_object *obj);
struct drm_gem_object *p2pgem_import_dma_buf(struct drm_device *drm,
					     struct dma_buf *dmabuf);
void p2pgem_import_revoke(struct p2pgem_device *p2p);
void p2pgem_import_put_hold(struct drm_gem_object *obj, bool done);
int p2pgem_copy_ioctl(struct p2pgem_device *p2p, struct drm_file *file,
		      struct drm_p2pgem_gem_copy *args);

#endif /* _P2PGEM_IMPORT_H_ */
