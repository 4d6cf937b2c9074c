/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: debugfs files.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_DEBUGFS_H_
#define _P2PGEM_DEBUGFS_H_

struct drm_minor;

void p2pgem_debugfs_init(struct drm_minor *minor);

#endif /* _P2PGEM_DEBUGFS_H_ */
