/* SPDX-License-Identifier: MIT */
/*
 * sw_sync: userspace-signalled fences for tests, from the kernel's
 * drivers/dma-buf/sw_sync.c (a debugfs file, CONFIG_SW_SYNC). Create a
 * fence on the timeline with SW_SYNC_IOC_CREATE_FENCE, signal it by
 * advancing the timeline with SW_SYNC_IOC_INC.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_TESTS_SW_SYNC_H
#define P2PBUF_TESTS_SW_SYNC_H

#include <stdint.h>
#include <sys/ioctl.h>

struct sw_sync_create_fence_data {
	uint32_t value;
	char name[32];
	int32_t fence;
};

#define SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC _IOW('W', 1, uint32_t)
#define SW_SYNC_PATH "/sys/kernel/debug/sync/sw_sync"

#endif
