/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: PRIME export as a dynamic, peer-to-peer aware dma-buf exporter.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_DMA_BUF_H_
#define _P2PGEM_DMA_BUF_H_

#include <linux/types.h>

struct dma_buf;
struct drm_device;
struct drm_gem_object;
struct p2pgem_bo;
struct pci_dev;

struct dma_buf *p2pgem_gem_prime_export(struct drm_gem_object *obj,
					int flags);
struct drm_gem_object *p2pgem_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dmabuf);
struct dma_buf *p2pgem_bo_dma_buf(struct p2pgem_bo *bo);
struct p2pgem_bo *p2pgem_dma_buf_bo(struct dma_buf *dmabuf);
struct p2pgem_bo *p2pgem_dma_buf_fd_bo(struct drm_device *drm, int fd);
void p2pgem_bo_dmabuf_unpin(struct p2pgem_bo *bo);
void p2pgem_dma_buf_moved(struct dma_buf *dmabuf);
int p2pgem_dma_buf_register(void);
void p2pgem_dma_buf_unregister(void);
int p2pgem_bo_p2p_query(struct p2pgem_bo *bo, struct pci_dev *client,
			u32 *reason, s32 *distance);

#endif /* _P2PGEM_DMA_BUF_H_ */
