// SPDX-License-Identifier: MIT
/*
 * Shared helpers of the p2pgem uAPI tests.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sync_file.h>
#include <linux/udmabuf.h>

#include <xf86drm.h>

#include "p2pgem_test_lib.h"
#include "../lib/sw_sync.h"

char t_reason[512];

static int run_one(const struct subtest *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("not ok %s: fork: %s\n", t->name, strerror(errno));
		return 1;
	}
	if (!pid) {
		int ret;

		t_reason[0] = '\0';
		ret = t->fn();
		if (ret == 0)
			printf("ok %s\n", t->name);
		else if (ret == SKIP)
			printf("skip %s%s%s\n", t->name, t_reason[0] ? ": " : "",
			       t_reason);
		else
			printf("not ok %s: %s\n", t->name, t_reason);
		fflush(stdout);
		_exit(ret == 0 || ret == SKIP ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) < 0) {
		printf("not ok %s: waitpid: %s\n", t->name, strerror(errno));
		return 1;
	}
	if (WIFSIGNALED(status)) {
		printf("not ok %s: killed by signal %d\n", t->name,
		       WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status) != 0;
}

int run_subtests(int argc, char **argv, const struct subtest *tests,
		 size_t count)
{
	const char *only = NULL;
	int failed = 0, found = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < count; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--run")) {
		only = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--list | --run SUBTEST]\n", argv[0]);
		return 2;
	}
	for (i = 0; i < count; i++) {
		if (only && strcmp(only, tests[i].name))
			continue;
		found++;
		failed += run_one(&tests[i]);
	}
	if (only && !found) {
		fprintf(stderr, "no subtest named %s\n", only);
		return 2;
	}
	return failed ? 1 : 0;
}

static int is_p2pgem(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	int ret;

	if (!v)
		return 0;
	ret = !strcmp(v->name, "p2pgem");
	drmFreeVersion(v);
	return ret;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The minor numbers of the p2pgem render nodes, sorted. */
static int p2p_minors(int *minors, int max)
{
	struct dirent *de;
	int n = 0;
	DIR *dir;

	dir = opendir("/dev/dri");
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		char path[300];
		int fd;

		if (strncmp(de->d_name, "renderD", 7))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (is_p2pgem(fd))
			minors[n++] = atoi(de->d_name + 7);
		close(fd);
	}
	closedir(dir);
	qsort(minors, n, sizeof(*minors), cmp_int);
	return n;
}

int p2p_count(void)
{
	int minors[64];

	return p2p_minors(minors, 64);
}

int p2p_open(int index)
{
	int minors[64], n;
	char path[64];

	n = p2p_minors(minors, 64);
	if (index >= n)
		return -1;
	snprintf(path, sizeof(path), "/dev/dri/renderD%d", minors[index]);
	return open(path, O_RDWR | O_CLOEXEC);
}

int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

int p2p_ioctl(int fd, unsigned long request, void *arg)
{
	return drmIoctl(fd, request, arg) ? -errno : 0;
}

int p2p_copy(int fd, uint32_t src, uint64_t src_offset, uint32_t dst,
	     uint64_t dst_offset, uint64_t size)
{
	struct drm_p2pgem_gem_copy args = {
		.src_handle = src, .dst_handle = dst,
		.src_offset = src_offset, .dst_offset = dst_offset,
		.size = size,
	};

	return p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_COPY, &args);
}

int udmabuf_new(uint64_t size, int *memfd)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC,
					 .size = size };
	int dev, buf, ret;

	*memfd = memfd_create("p2pbuf-test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (*memfd < 0)
		return -errno;
	if (ftruncate(*memfd, size) ||
	    fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = -errno;
		goto err;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		goto err;
	}
	create.memfd = *memfd;
	buf = ioctl(dev, UDMABUF_CREATE, &create);
	ret = -errno;
	close(dev);
	if (buf >= 0)
		return buf;
err:
	close(*memfd);
	return ret;
}

int vgem_open(void)
{
	char path[64];

	for (int i = 0; i < 64; i++) {
		drmVersionPtr v;
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, "vgem")) {
			drmFreeVersion(v);
			return fd;
		}
		if (v)
			drmFreeVersion(v);
		close(fd);
	}
	return -1;
}

int vgem_create(int fd, uint64_t size, uint32_t *handle, void **cpu)
{
	struct drm_mode_create_dumb create = { .width = 1024, .bpp = 32,
					       .height = size / 4096 };
	struct drm_mode_map_dumb map = { 0 };
	int ret;

	ret = p2p_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create);
	if (ret)
		return ret;
	map.handle = create.handle;
	ret = p2p_ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map);
	if (ret)
		return ret;
	*cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    map.offset);
	if (*cpu == MAP_FAILED)
		return -errno;
	*handle = create.handle;
	return 0;
}

int p2p_create(int fd, uint64_t size, uint32_t placement, uint32_t flags,
	       uint32_t *handle)
{
	struct drm_p2pgem_gem_create args = {
		.size = size, .placement = placement, .flags = flags,
	};
	int ret = p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_CREATE, &args);

	if (!ret && handle)
		*handle = args.handle;
	return ret;
}

int p2p_close_bo(int fd, uint32_t handle)
{
	struct drm_gem_close args = { .handle = handle };

	return p2p_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &args);
}

void *p2p_map(int fd, uint32_t handle, size_t size)
{
	struct drm_p2pgem_gem_mmap_offset args = { .handle = handle };
	void *p;

	if (p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &args))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 args.offset);
	return p == MAP_FAILED ? NULL : p;
}

int p2p_info(int fd, uint32_t handle, struct drm_p2pgem_gem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_INFO, info);
}

int p2p_wait(int fd, uint32_t handle, int64_t timeout_ns)
{
	struct drm_p2pgem_gem_wait args = {
		.handle = handle, .timeout_ns = timeout_ns,
	};

	return p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_WAIT, &args);
}

int p2p_evict(int fd, uint32_t handle)
{
	struct drm_p2pgem_gem_evict args = { .handle = handle };

	return p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_EVICT, &args);
}

int p2p_dev_info(int fd, struct drm_p2pgem_device_info *info)
{
	memset(info, 0, sizeof(*info));
	return p2p_ioctl(fd, DRM_IOCTL_P2PGEM_DEVICE_INFO, info);
}

static uint64_t pattern_word(uint64_t seed, size_t i)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (i * 0xbf58476d1ce4e5b9ull);

	return x ^ (x >> 31);
}

void fill_pattern(void *p, size_t size, uint64_t seed)
{
	volatile uint64_t *w = p;
	size_t i;

	for (i = 0; i < size / 8; i++)
		w[i] = pattern_word(seed, i);
}

long check_pattern(const void *p, size_t size, uint64_t seed)
{
	const volatile uint64_t *w = p;
	size_t i;

	for (i = 0; i < size / 8; i++)
		if (w[i] != pattern_word(seed, i))
			return (long)(i * 8);
	return -1;
}

long check_zero(const void *p, size_t size)
{
	const volatile uint64_t *w = p;
	size_t i;

	for (i = 0; i < size / 8; i++)
		if (w[i])
			return (long)(i * 8);
	return -1;
}

/*
 * The booted kernel's configuration, as tests/guest/lib/kconfig reads it:
 * /proc/config.gz, else /boot/config-$(uname -r) (the harness mounts the
 * booted kernel's there). Without either the program fails: guessing
 * would make expectations follow the wrong kernel.
 */
int kconfig_on(const char *name)
{
	char line[512], want[128], path[300];
	struct utsname uts;
	int on = 0, gz = !access("/proc/config.gz", R_OK);
	size_t n;
	FILE *f;

	n = (size_t)snprintf(want, sizeof(want), "CONFIG_%s=", name);
	if (gz) {
		f = popen("zcat /proc/config.gz", "r");
	} else {
		uname(&uts);
		snprintf(path, sizeof(path), "/boot/config-%s", uts.release);
		f = fopen(path, "re");
	}
	if (!f) {
		fprintf(stderr, "kconfig: no /proc/config.gz and no /boot/config-$(uname -r)\n");
		exit(1);
	}
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, n))
			on = line[n] == 'y' || line[n] == 'm';
	if (gz)
		pclose(f);
	else
		fclose(f);
	return on;
}

int pins_on_map(void)
{
	return !kconfig_on("DMABUF_MOVE_NOTIFY");
}

/* A dma-buf of a buffer object, read-write: its fd, or -errno. */
int export_bo(int fd, uint32_t handle)
{
	int dmabuf = -1;

	if (drmPrimeHandleToFD(fd, handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf))
		return -errno;
	return dmabuf;
}

/* A new fence on a sw_sync timeline: a sync_file, or -errno. */
int sw_fence(int timeline, uint32_t value)
{
	struct sw_sync_create_fence_data f = { .value = value,
					       .name = "p2pbuf-test" };

	if (ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &f))
		return -errno;
	return f.fence;
}

/* 1 signalled, 0 active, -errno signalled with an error. */
int fence_status(int sync_file)
{
	struct sync_file_info info = { 0 };

	if (ioctl(sync_file, SYNC_IOC_FILE_INFO, &info))
		return -1000 - errno;
	return info.status;
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first fence's driver and timeline names. */
int fence_names(int sync_file, char *driver, char *timeline)
{
	struct sync_fence_info fences[8];
	struct sync_file_info info = {
		.num_fences = 8,
		.sync_fence_info = (uintptr_t)fences,
	};

	memset(fences, 0, sizeof(fences));
	if (ioctl(sync_file, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	if (!info.num_fences)
		return -ENOENT;
	memcpy(driver, fences[0].driver_name, 32);
	memcpy(timeline, fences[0].obj_name, 32);
	return 0;
}

/* Read a whole file and throw it away: its contents must be readable. */
int read_all(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The PCI address of a DRM file's device. */
int pci_name_of(int fd, char *name, size_t len)
{
	char path[128], link[PATH_MAX];
	struct stat st;
	ssize_t n;
	char *slash;

	if (fstat(fd, &st))
		return -errno;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	slash = strrchr(link, '/');
	slash = slash ? slash + 1 : link;
	if (strlen(slash) >= len)
		return -ENAMETOOLONG;
	memcpy(name, slash, strlen(slash) + 1);
	return 0;
}

/* The p2pgem device bound to PCI function @dev, opened; or -1. */
int open_pci(const char *dev)
{
	char name[64];
	int i, fd;

	for (i = 0; i < p2p_count(); i++) {
		fd = p2p_open(i);
		if (fd >= 0 && !pci_name_of(fd, name, sizeof(name)) &&
		    !strcmp(name, dev))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}
