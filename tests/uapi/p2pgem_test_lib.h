/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the p2pgem uAPI tests: an igt-style subtest runner and
 * thin wrappers around the p2pgem ioctls.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PGEM_TEST_LIB_H
#define P2PGEM_TEST_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <drm/p2pgem_drm.h>

#define SKIP 77

struct subtest {
	const char *name;
	int (*fn)(void);
};

extern char t_reason[512];

/* Fail the current subtest with a reason unless cond holds. */
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		snprintf(t_reason, sizeof(t_reason), __VA_ARGS__);	\
		return -1;						\
	}								\
} while (0)

/* Same, for an ioctl wrapper's return value: expect exactly want. */
#define CHECK_RET(expr, want) do {					\
	int r_ = (expr);						\
	CHECK(r_ == (want), "%s: got %d (%s), want %d (%s)", #expr,	\
	      r_, r_ < 0 ? strerror(-r_) : "ok", (want),		\
	      (want) < 0 ? strerror(-(want)) : "ok");			\
} while (0)

#define SKIP_UNLESS(cond, ...) do {					\
	if (!(cond)) {							\
		snprintf(t_reason, sizeof(t_reason), __VA_ARGS__);	\
		return SKIP;						\
	}								\
} while (0)

int run_subtests(int argc, char **argv, const struct subtest *tests,
		 size_t count);

int p2p_count(void);
int p2p_open(int index);
/* Write @text to the file at @path (sysfs, debugfs): 0 or -errno. */
int write_file(const char *path, const char *text);
int p2p_ioctl(int fd, unsigned long request, void *arg);
int p2p_create(int fd, uint64_t size, uint32_t placement, uint32_t flags,
	       uint32_t *handle);
int p2p_close_bo(int fd, uint32_t handle);
void *p2p_map(int fd, uint32_t handle, size_t size);
int p2p_info(int fd, uint32_t handle, struct drm_p2pgem_gem_info *info);
int p2p_wait(int fd, uint32_t handle, int64_t timeout_ns);
int p2p_evict(int fd, uint32_t handle);
int p2p_dev_info(int fd, struct drm_p2pgem_device_info *info);
int p2p_copy(int fd, uint32_t src, uint64_t src_offset, uint32_t dst,
	     uint64_t dst_offset, uint64_t size);
/*
 * 1 when CONFIG_@name of the booted kernel is y or m, else 0 (exits when
 * the configuration cannot be read, as tests/guest/lib/kconfig does).
 */
int kconfig_on(const char *name);
/*
 * The kernel pins a dynamic importer's buffer while it is mapped (no
 * CONFIG_DMABUF_MOVE_NOTIFY): mapped buffers do not move, importers get
 * no move_notify.
 */
int pins_on_map(void);
/* A udmabuf of @size bytes over a sealed memfd; its fd, with the memfd in
 * *memfd; -errno on failure. */
int udmabuf_new(uint64_t size, int *memfd);
/* A vgem device: its fd, or -1. */
int vgem_open(void);
/* A vgem buffer of @size bytes (dumb), mapped for the CPU in *cpu. */
int vgem_create(int fd, uint64_t size, uint32_t *handle, void **cpu);

void fill_pattern(void *p, size_t size, uint64_t seed);
/* Returns the byte offset of the first mismatch, or -1. */
long check_pattern(const void *p, size_t size, uint64_t seed);
long check_zero(const void *p, size_t size);
int export_bo(int fd, uint32_t handle);
int sw_fence(int timeline, uint32_t value);
int fence_status(int sync_file);
/* The first fence's driver and timeline names (32 bytes each). */
int fence_names(int sync_file, char *driver, char *timeline);
double now(void);
/* Read a whole file and throw it away: 0 or -errno. */
int read_all(const char *path);
/* The PCI address of a DRM file's device. */
int pci_name_of(int fd, char *name, size_t len);
/* The p2pgem device bound to PCI function @dev, opened; or -1. */
int open_pci(const char *dev);

#endif
