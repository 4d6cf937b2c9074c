// SPDX-License-Identifier: MIT
/*
 * p2pgem_revoke: unbind a p2pgem device, or remove its PCI function, while
 * its buffers are exported, mapped by importers and mapped by the CPU (run
 * by tests/guest/p2pgem-revoke.sh, which brings the device back after each
 * subtest: bind, or a PCI rescan).
 *
 * Checks: the dynamic importer gets a move_notify and loses its mapping,
 * its next map fails with ENODEV, new importers cannot pin; CPU mappings
 * of the buffer object and of the dma-buf give SIGBUS; the render node's
 * ioctls give ENODEV; a static importer detaches cleanly; everything can
 * be closed; and the module's reference count comes back.
 *
 * Usage: p2pgem_revoke [--list | --run unbind|remove]
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pbuf_ti_lib.h"

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* 1 when reading *p raises SIGBUS, 0 when it reads. */
static int read_sigbus(volatile const uint8_t *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int bus = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1))
		bus = 1;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

static int module_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/p2pgem/refcnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	return atoi(buf);
}

/* Take the device away (@how: unbind or remove) under live users. */
static int take_away(const char *how)
{
	struct drm_p2pgem_gem_info info;
	struct p2pbuf_ti_status st;
	static struct mapping m;
	uint32_t h_dyn, h_static;
	int fd, dmabuf_dyn, dmabuf_static, ti_dyn, ti_static, ti_new, refcnt;
	uint8_t *cpu, *cpu_dmabuf;
	const size_t size = 256 * KiB;
	char pci[64], edu[32];
	struct bo b;

	SKIP_UNLESS(!edu_name(edu, sizeof(edu)), "no edu device");
	refcnt = module_refcnt();
	fd = p2p_open(1);
	SKIP_UNLESS(fd >= 0, "no second p2pgem device");
	CHECK(!render_pci(fd, pci, sizeof(pci)), "PCI function of device 1");
	CHECK(!vram_bar(fd, &b.bar_start, &b.bar_end), "VRAM BAR");
	b.fd = fd;

	/* Two exported VRAM buffers: one for a dynamic P2P importer ... */
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &h_dyn), 0);
	cpu = p2p_map(fd, h_dyn, size);
	CHECK(cpu, "mmap");
	fill_pattern(cpu, size, 5);
	CHECK(!drmPrimeHandleToFD(fd, h_dyn, DRM_CLOEXEC | DRM_RDWR,
				  &dmabuf_dyn), "export");
	cpu_dmabuf = mmap(NULL, size, PROT_READ, MAP_SHARED, dmabuf_dyn, 0);
	CHECK(cpu_dmabuf != MAP_FAILED, "mmap of the dma-buf: %s",
	      strerror(errno));
	CHECK(check_pattern(cpu_dmabuf, size, 5) == -1, "dma-buf mmap reads");
	ti_dyn = ti_open();
	CHECK_RET(ti_attach(ti_dyn, dmabuf_dyn, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	b.handle = h_dyn;
	CHECK_RET(ti_map(ti_dyn, &m, &b), 0);

	/* ... and one for a static importer, which pins it. */
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &h_static), 0);
	CHECK(!drmPrimeHandleToFD(fd, h_static, DRM_CLOEXEC | DRM_RDWR,
				  &dmabuf_static), "export");
	ti_static = ti_open();
	CHECK_RET(ti_attach(ti_static, dmabuf_static, P2PBUF_TI_STATIC, 0, edu),
		  0);

	printf("# %s %s\n", how, pci);
	if (!strcmp(how, "unbind")) {
		CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/unbind", pci),
			  0);
	} else {
		char path[128];

		/* Hot removal: the PCI function itself goes away. */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
			 pci);
		CHECK_RET(write_file(path, "1"), 0);
	}

	CHECK(!ioctl(ti_dyn, P2PBUF_TI_IOCTL_STATUS, &st), "status: %s",
	      strerror(errno));
	CHECK(st.move_notifies >= 1 && !st.mapped,
	      "dynamic importer after unbind: %u move_notifies, mapped %u",
	      st.move_notifies, st.mapped);
	memset(&m.map, 0, sizeof(m.map));
	CHECK(ioctl(ti_dyn, P2PBUF_TI_IOCTL_MAP, &m.map) && errno == ENODEV,
	      "map after unbind: %s", strerror(errno));
	ti_new = ti_open();
	CHECK_RET(ti_attach(ti_new, dmabuf_dyn, P2PBUF_TI_STATIC, 0, edu),
		  -ENODEV);
	close(ti_new);

	CHECK(read_sigbus(cpu), "CPU mapping of the buffer object still reads");
	CHECK(read_sigbus(cpu_dmabuf + 4096),
	      "CPU mapping of the dma-buf still reads");
	CHECK_RET(p2p_info(fd, h_dyn, &info), -ENODEV);

	CHECK(!ioctl(ti_static, P2PBUF_TI_IOCTL_DETACH), "static detach: %s",
	      strerror(errno));
	close(ti_static);
	close(ti_dyn);
	munmap(cpu, size);
	munmap(cpu_dmabuf, size);
	close(dmabuf_dyn);
	close(dmabuf_static);
	close(fd);
	CHECK(module_refcnt() == refcnt, "p2pgem refcnt %d, was %d",
	      module_refcnt(), refcnt);
	return 0;
}

static int unbind(void)
{
	return take_away("unbind");
}

static int hot_remove(void)
{
	return take_away("remove");
}

static const struct subtest tests[] = {
	{ "unbind", unbind },
	{ "remove", hot_remove },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
