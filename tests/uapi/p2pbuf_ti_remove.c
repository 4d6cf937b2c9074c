// SPDX-License-Identifier: MIT
/*
 * p2pbuf_ti_remove: the test importer's edu device goes away (unbind, or
 * hot removal of the PCI function) while its files are open and attached
 * to a p2pgem VRAM buffer, a device DMA is in flight and another queued,
 * and a sync_file exported from the dma-buf holds the DMA's fence. Run by
 * tests/guest/p2pbuf-ti-remove.sh, which brings the device and the module
 * back after each subtest.
 *
 * Checks: the files' ioctls fail with ENODEV, also a new DMA; a file that
 * was not attached still works; the fences signal (a cancelled DMA with
 * ENODEV); debugfs' bufinfo and SYNC_IOC_FILE_INFO on the sync_file read
 * them (KASAN would see a use after free); while only the sync_file holds
 * a fence of the module, delete_module() refuses to unload it; once it is
 * closed, the module's reference count drops to zero.
 *
 * Usage: p2pbuf_ti_remove [--list | --run unbind|remove]
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "p2pbuf_ti_lib.h"

#define MODNAME "p2pbuf_test_importer"

static int module_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/" MODNAME "/refcnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	return atoi(buf);
}

/* Count the lines of debugfs' bufinfo that name the module's fences. */
static int bufinfo_fences(void)
{
	static char text[1 << 20];
	size_t len = 0;
	ssize_t n;
	int fd, count = 0;
	char *p;

	fd = open("/sys/kernel/debug/dma_buf/bufinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	close(fd);
	text[len] = '\0';
	for (p = text; (p = strstr(p, MODNAME " edu-dma")); p++)
		count++;
	return count;
}

/* SYNC_IOC_FILE_INFO: the fences' names and status. */
static int sync_info(int fd)
{
	struct sync_fence_info fi[16];
	struct sync_file_info info;
	unsigned int i;

	memset(&info, 0, sizeof(info));
	CHECK(!ioctl(fd, SYNC_IOC_FILE_INFO, &info), "SYNC_IOC_FILE_INFO: %s",
	      strerror(errno));
	CHECK(info.num_fences >= 1 && info.num_fences <= 16,
	      "the sync_file has %u fences", info.num_fences);
	memset(fi, 0, sizeof(fi));
	info.sync_fence_info = (uintptr_t)fi;
	CHECK(!ioctl(fd, SYNC_IOC_FILE_INFO, &info), "SYNC_IOC_FILE_INFO: %s",
	      strerror(errno));
	printf("# sync_file status %d\n", info.status);
	for (i = 0; i < info.num_fences; i++) {
		printf("# fence %s %s status %d\n", fi[i].driver_name,
		       fi[i].obj_name, fi[i].status);
		CHECK(!strcmp(fi[i].driver_name, MODNAME) &&
		      !strcmp(fi[i].obj_name, "edu-dma"),
		      "a fence of %.32s %.32s", fi[i].driver_name, fi[i].obj_name);
		CHECK(fi[i].status == 1 || fi[i].status == -ENODEV,
		      "fence status %d", fi[i].status);
	}
	return 0;
}

static int ti_status(int ti)
{
	struct p2pbuf_ti_status st;

	return ioctl(ti, P2PBUF_TI_IOCTL_STATUS, &st) ? -errno : 0;
}

static int ti_map_raw(int ti)
{
	struct p2pbuf_ti_map map = { 0 };

	return ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map) ? -errno : 0;
}

static int take_away(const char *how)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_READ };
	uint8_t data[2048], in[2048];
	char edu[EDU_NAME_LEN], path[128];
	int ti_dyn, ti_static, ti_idle, ret, i;
	struct bo b, b2;
	struct pollfd pfd;
	long left;

	SKIP_UNLESS(module_refcnt() >= 0, MODNAME ".ko is not loaded");
	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/" MODNAME "/%s",
		 edu);
	SKIP_UNLESS(!access(path, F_OK), "%s is not bound to " MODNAME, edu);
	ret = bo_new(&b2, 64 * KiB, P2PGEM_PLACEMENT_VRAM, 0);
	if (ret)
		return ret;
	memset(b.cpu, 0, b.size);

	ti_dyn = ti_open();
	ti_static = ti_open();
	ti_idle = ti_open();
	CHECK(ti_dyn >= 0 && ti_static >= 0 && ti_idle >= 0, "open");
	CHECK_RET(ti_attach(ti_dyn, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu),
		  0);
	CHECK_RET(ti_attach(ti_static, b2.dmabuf, P2PBUF_TI_STATIC, 0, edu), 0);
	CHECK_RET(ti_dma(ti_static, 0, in, sizeof(in),
			 P2PBUF_TI_DMA_FROM_BUFFER), 0);

	/* One DMA running (~200 ms), one queued behind it, then away. */
	for (i = 0; i < 2; i++) {
		memset(data, 0xa0 + i, sizeof(data));
		CHECK_RET(ti_dma(ti_dyn, 4096 * i, data, sizeof(data),
				 P2PBUF_TI_DMA_TO_BUFFER), 0);
	}
	CHECK(!ioctl(b.dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp),
	      "EXPORT_SYNC_FILE: %s", strerror(errno));
	printf("# %s %s\n", how, edu);
	if (!strcmp(how, "unbind")) {
		CHECK_RET(write_file("/sys/bus/pci/drivers/" MODNAME "/unbind",
				     edu), 0);
	} else {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
			 edu);
		CHECK_RET(write_file(path, "1"), 0);
	}

	/* The fences are all signalled: remove() waited for or cancelled
	 * every job. */
	pfd = (struct pollfd){ .fd = exp.fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 1, "the sync_file is not signalled");

	/* Every ioctl of the attached files: ENODEV. */
	CHECK_RET(ti_dma(ti_dyn, 0, data, sizeof(data),
			 P2PBUF_TI_DMA_TO_BUFFER), -ENODEV);
	CHECK_RET(ti_dma(ti_dyn, 0, in, sizeof(in),
			 P2PBUF_TI_DMA_FROM_BUFFER), -ENODEV);
	CHECK_RET(ti_dma(ti_static, 0, in, sizeof(in),
			 P2PBUF_TI_DMA_FROM_BUFFER), -ENODEV);
	CHECK_RET(ti_map_raw(ti_dyn), -ENODEV);
	CHECK_RET(ti_status(ti_dyn), -ENODEV);
	CHECK_RET(ti_status(ti_static), -ENODEV);
	CHECK(ioctl(ti_dyn, P2PBUF_TI_IOCTL_DETACH) && errno == ENODEV,
	      "detach: %s", strerror(errno));
	CHECK_RET(ti_attach(ti_dyn, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu),
		  -ENODEV);
	/* A file that was not attached for it is not affected. */
	CHECK_RET(ti_status(ti_idle), -ENOENT);
	if (!strcmp(how, "remove"))
		CHECK_RET(ti_attach(ti_idle, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
				    0, edu), -ENODEV);

	/* The fences, read after the device state is gone. */
	ret = bufinfo_fences();
	CHECK(ret > 0, "bufinfo shows %d fences of the module", ret);
	printf("# bufinfo: %d fences of the module\n", ret);
	if (sync_info(exp.fd))
		return -1;

	/* Only the sync_file (and what is not freed yet) holds fences now. */
	close(ti_dyn);
	close(ti_static);
	close(ti_idle);
	bo_free(&b);
	bo_free(&b2);
	if (sync_info(exp.fd))
		return -1;
	printf("# module refcnt %d with the sync_file held\n", module_refcnt());
	errno = 0;
	CHECK(syscall(SYS_delete_module, MODNAME, O_NONBLOCK) == -1 &&
	      (errno == EWOULDBLOCK || errno == EBUSY),
	      "delete_module with a fence held: %s",
	      errno ? strerror(errno) : "unloaded");
	close(exp.fd);

	/* Freed buffer objects drop their fences soon after. */
	for (left = 20000; left > 0 && module_refcnt() != 0; left -= 100)
		usleep(100000);
	CHECK(module_refcnt() == 0, "module refcnt %d after closing everything",
	      module_refcnt());
	return 0;
}

static int unbind(void)
{
	return take_away("unbind");
}

static int remove_fn(void)
{
	return take_away("remove");
}

static const struct subtest tests[] = {
	{ "unbind", unbind },
	{ "remove", remove_fn },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
