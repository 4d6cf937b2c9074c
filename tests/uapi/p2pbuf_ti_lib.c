// SPDX-License-Identifier: MIT
/*
 * Helpers of the tests that drive tests/importer/p2pbuf_test_importer.ko:
 * PCI functions from sysfs, exported p2pgem buffer objects, the importer's
 * ioctls, and the classification of a mapping's addresses.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pbuf_ti_lib.h"

const char *const kind_names[] = {
	"system", "bus-address", "host-bridge", "iommu", "mixed",
};

enum kind topo_p2p_kind(void)
{
	const char *t = getenv("P2PBUF_TOPO");

	/* No P2P pages at all: every importer gets system memory. */
	if (!kconfig_on("PCI_P2PDMA"))
		return K_SYSTEM;
	if (!t)
		return K_MIXED;
	if (!strcmp(t, "switch"))
		return K_BUS;
	if (!strcmp(t, "hostbridge"))
		return K_HOST_BRIDGE;
	if (!strcmp(t, "iommu"))
		return K_IOMMU;
	if (!strcmp(t, "blocked"))
		return K_SYSTEM;
	return K_MIXED;
}

const char *topo_no_p2p_reason(void)
{
	return kconfig_on("PCI_P2PDMA") ? "host-bridge-not-whitelisted" :
		"kernel-without-pci-p2pdma";
}

void pci_attr(const char *pci, const char *attr, char *buf, size_t len)
{
	char path[320];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", pci, attr);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

int pci_find(const char *vendor, const char *device, int index, char *name,
	     size_t len)
{
	char v[16], d[16];
	struct dirent **list;
	int n, i, found = 0, ret = -1;

	/* Sorted by address, so that index means the same every time. */
	n = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *pci = list[i]->d_name;

		if (pci[0] == '.' || ret == 0)
			continue;
		pci_attr(pci, "vendor", v, sizeof(v));
		pci_attr(pci, "device", d, sizeof(d));
		if (strncmp(v, vendor, strlen(vendor)) ||
		    strncmp(d, device, strlen(device)) || found++ != index)
			continue;
		if (strlen(pci) < len) {
			memcpy(name, pci, strlen(pci) + 1);
			ret = 0;
		}
	}
	while (n--)
		free(list[n]);
	free(list);
	return ret;
}

int edu_name(char *name, size_t len)
{
	return pci_find("0x1234", "0x11e8", 0, name, len);
}

/* The PCI function behind a render node fd. */
int render_pci(int fd, char *name, size_t len)
{
	char path[128], link[256];
	struct stat st;
	ssize_t n;
	char *base;

	if (fstat(fd, &st))
		return -1;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strlen(base) >= len)
		return -1;
	memcpy(name, base, strlen(base) + 1);
	return 0;
}

/* BAR 2 (VRAM) of the render node's PCI function: [start, end]. */
int vram_bar(int fd, uint64_t *start, uint64_t *end)
{
	char path[160], pci[64], line[128];
	uint64_t s, e, fl;
	FILE *res;
	int i, ok = 0;

	if (render_pci(fd, pci, sizeof(pci)))
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", pci);
	res = fopen(path, "r");
	if (!res)
		return -1;
	for (i = 0; i <= 2; i++)
		ok = fgets(line, sizeof(line), res) != NULL;
	fclose(res);
	if (!ok || sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &s, &e,
			  &fl) != 3)
		return -1;
	*start = s;
	*end = e;
	return 0;
}

int ti_open(void)
{
	return open("/dev/p2pbuf_test_importer", O_RDWR | O_CLOEXEC);
}

int ti_attach(int ti, int dmabuf, uint32_t mode, uint32_t flags,
		     const char *device)
{
	struct p2pbuf_ti_attach at = { .fd = dmabuf, .mode = mode,
				       .flags = flags };

	snprintf(at.device, sizeof(at.device), "%s", device);
	return ioctl(ti, P2PBUF_TI_IOCTL_ATTACH, &at) ? -errno : 0;
}

/* Map (or re-map) and classify the addresses, as the buffer is now. */
int ti_map(int ti, struct mapping *m, struct bo *b)
{
	unsigned int i, n_bus = 0, n_bar = 0, n;
	uint64_t bar_start = b->bar_start, bar_end = b->bar_end;
	int in_vram;

	memset(&m->map, 0, sizeof(m->map));
	m->map.entries = (uintptr_t)m->ent;
	m->map.max_entries = MAX_ENTRIES;
	if (ioctl(ti, P2PBUF_TI_IOCTL_MAP, &m->map))
		return -errno;
	in_vram = bo_placement(b) == P2PGEM_PLACEMENT_VRAM;
	n = m->map.nents < MAX_ENTRIES ? m->map.nents : MAX_ENTRIES;
	m->total = m->max_seg = 0;
	for (i = 0; i < n; i++) {
		m->total += m->ent[i].length;
		if (m->ent[i].length > m->max_seg)
			m->max_seg = m->ent[i].length;
		if (m->ent[i].flags & P2PBUF_TI_BUS_ADDRESS)
			n_bus++;
		if (m->ent[i].dma_address >= bar_start &&
		    m->ent[i].dma_address + m->ent[i].length - 1 <= bar_end)
			n_bar++;
	}
	if (!in_vram)
		m->kind = K_SYSTEM;
	else if (n_bus == n && n_bar == n)
		m->kind = K_BUS;
	else if (!n_bus && n_bar == n)
		m->kind = K_HOST_BRIDGE;
	else if (!n_bus && !n_bar)
		m->kind = K_IOMMU;
	else
		m->kind = K_MIXED;
	return 0;
}

int ti_dma(int ti, uint64_t offset, void *data, uint32_t len,
		  uint32_t flags)
{
	struct p2pbuf_ti_dma d = { .data = (uintptr_t)data, .offset = offset,
				   .length = len, .flags = flags };

	return ioctl(ti, P2PBUF_TI_IOCTL_DMA, &d) ? -errno : 0;
}

int bo_new(struct bo *b, uint64_t size, uint32_t placement,
		  uint32_t flags)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = p2p_open(0);
	SKIP_UNLESS(b->fd >= 0, "no p2pgem device");
	CHECK(!vram_bar(b->fd, &b->bar_start, &b->bar_end), "VRAM BAR");
	b->size = size;
	ret = p2p_create(b->fd, size, placement, flags, &b->handle);
	CHECK(!ret, "create: %s", strerror(-ret));
	b->cpu = p2p_map(b->fd, b->handle, size);
	CHECK(b->cpu, "mmap: %s", strerror(errno));
	CHECK(!drmPrimeHandleToFD(b->fd, b->handle, DRM_CLOEXEC | DRM_RDWR,
				  &b->dmabuf), "export: %s", strerror(errno));
	return 0;
}

int edu_bo_new(struct bo *b, uint64_t size, uint32_t placement,
	       char edu[EDU_NAME_LEN])
{
	SKIP_UNLESS(!edu_name(edu, EDU_NAME_LEN), "no edu device");
	return bo_new(b, size, placement, 0);
}

void bo_free(struct bo *b)
{
	munmap(b->cpu, b->size);
	close(b->dmabuf);
	close(b->fd);
}

int bo_placement(struct bo *b)
{
	struct drm_p2pgem_gem_info info;

	if (p2p_info(b->fd, b->handle, &info))
		return -1;
	return info.placement;
}

int bo_idle(struct bo *b)
{
	return p2p_wait(b->fd, b->handle, 20000000000ll);
}

int kind_ok(const struct mapping *m, enum kind want)
{
	return want == K_MIXED || m->kind == want;
}
