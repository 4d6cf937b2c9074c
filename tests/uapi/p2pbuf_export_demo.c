// SPDX-License-Identifier: MIT
/*
 * p2pbuf_export_demo: what `make demo` shows of p2pgem's dma-buf export.
 * Exports one VRAM buffer object of device 0 and has the test importer
 * attach it, as a dynamic peer-to-peer importer, for every other PCI
 * function of the machine that is not a bridge. For each it prints
 * p2pgem's answer to "can this function reach the buffer peer-to-peer"
 * (DRM_IOCTL_P2PGEM_GEM_P2P_QUERY), where the buffer is once mapped, how
 * the function's addresses look and how many segments they take. Then the
 * edu device writes into the buffer by DMA and the CPU reads it back.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pbuf_ti_lib.h"

static const char *answer_name(uint32_t reason)
{
	switch (reason) {
	case P2PGEM_P2P_OK: return "p2p";
	case P2PGEM_P2P_ACS_REDIRECT: return "acs-redirect";
	case P2PGEM_P2P_HOST_BRIDGE: return "host-bridge-not-whitelisted";
	case P2PGEM_P2P_NO_P2PDMA: return "kernel-without-pci-p2pdma";
	case P2PGEM_P2P_SYSTEM_PLACEMENT: return "system-placement";
	case P2PGEM_P2P_PINNED_SYSTEM: return "pinned-in-system";
	case P2PGEM_P2P_TOO_BIG: return "larger-than-visible-window";
	default: return "?";
	}
}

/* What the emulated machine's functions are, for the reader. */
static const char *pci_what(const char *pci)
{
	static char c[16];
	char v[16], d[16];

	pci_attr(pci, "vendor", v, sizeof(v));
	pci_attr(pci, "device", d, sizeof(d));
	pci_attr(pci, "class", c, sizeof(c));
	if (!strcmp(v, "0x1234") && !strcmp(d, "0x11e8"))
		return "edu (DMA engine)";
	if (!strcmp(v, "0x1af4") && !strcmp(d, "0x1110"))
		return "VRAM (p2pgem)";
	if (!strncmp(c, "0x010802", 8))
		return "NVMe";
	if (!strncmp(c, "0x0106", 6))
		return "SATA";
	if (!strncmp(c, "0x0c05", 6))
		return "SMBus";
	if (!strcmp(v, "0x1af4"))
		return "virtio";
	return c;
}

static int is_bridge(const char *pci)
{
	char c[16];

	pci_attr(pci, "class", c, sizeof(c));
	return !c[0] || !strncmp(c, "0x06", 4);
}

static void show(struct bo *b, const char *pci)
{
	struct drm_p2pgem_gem_p2p_query q = { .handle = b->handle };
	static struct mapping m;
	unsigned int dom, bus, dev, fn;
	int ti, ret;

	if (sscanf(pci, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return;
	q.domain = dom;
	q.bus = bus;
	q.devfn = dev << 3 | fn;
	if (p2p_ioctl(b->fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q)) {
		printf("%-14s %-17s query failed: %s\n", pci, pci_what(pci),
		       strerror(errno));
		return;
	}
	ti = ti_open();
	ret = ti_attach(ti, b->dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, pci);
	if (!ret)
		ret = ti_map(ti, &m, b);
	if (ret) {
		printf("%-14s %-17s %-28s %8d  map failed: %s\n", pci,
		       pci_what(pci), answer_name(q.reason), q.distance,
		       strerror(-ret));
	} else {
		printf("%-14s %-17s %-28s %8d  %-6s %-12s %8u  0x%" PRIx64 "\n",
		       pci, pci_what(pci), answer_name(q.reason), q.distance,
		       bo_placement(b) == P2PGEM_PLACEMENT_VRAM ? "VRAM" : "system",
		       kind_names[m.kind], m.map.nents,
		       (uint64_t)m.ent[0].dma_address);
	}
	close(ti);
}

int main(void)
{
	char self[64], edu[32];
	struct dirent **list;
	uint8_t out[2048];
	struct bo b;
	int n;

	if (bo_new(&b, 1 * MiB, P2PGEM_PLACEMENT_VRAM, 0)) {
		fprintf(stderr, "p2pbuf_export_demo: %s\n", t_reason);
		return 1;
	}
	if (render_pci(b.fd, self, sizeof(self)))
		self[0] = '\0';
	printf("A 1 MiB VRAM buffer of p2pgem device %s (BAR 0x%" PRIx64 "-0x%" PRIx64 "),\n"
	       "exported as a dma-buf and attached for every other PCI function:\n\n",
	       self, b.bar_start, b.bar_end);
	printf("%-14s %-17s %-28s %8s  %-6s %-12s %8s  %s\n", "function", "what",
	       "p2pgem's answer", "distance", "memory", "addresses",
	       "segments", "first address");
	/* In address order. */
	n = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	if (n < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		const char *pci = list[i]->d_name;

		if (pci[0] != '.' && strcmp(pci, self) && !is_bridge(pci))
			show(&b, pci);
		free(list[i]);
	}
	free(list);

	if (!edu_name(edu, sizeof(edu))) {
		int ti = ti_open(), ret;

		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = (uint8_t)(i * 7 + 3);
		ret = ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu);
		if (!ret)
			ret = ti_dma(ti, 4096, out, sizeof(out),
				     P2PBUF_TI_DMA_TO_BUFFER);
		if (!ret)
			ret = bo_idle(&b);
		printf("\nThe edu device (%s) DMAs 2 KiB into the buffer's %s: %s\n",
		       edu, bo_placement(&b) == P2PGEM_PLACEMENT_VRAM ? "VRAM" :
		       "system memory",
		       ret ? strerror(-ret) :
		       !memcmp((uint8_t *)b.cpu + 4096, out, sizeof(out)) ?
		       "the CPU reads back every byte" : "the bytes DIFFER");
		close(ti);
	}
	bo_free(&b);
	return 0;
}
