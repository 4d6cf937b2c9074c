/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: the ioctls.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_IOCTL_H_
#define _P2PGEM_IOCTL_H_

#include <drm/drm_ioctl.h>
#include <drm/p2pgem_drm.h>

#define P2PGEM_NUM_IOCTLS	(DRM_P2PGEM_GEM_COPY + 1)

extern const struct drm_ioctl_desc p2pgem_ioctls[P2PGEM_NUM_IOCTLS];

#endif /* _P2PGEM_IOCTL_H_ */
