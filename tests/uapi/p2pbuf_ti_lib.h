/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the tests that drive tests/importer/p2pbuf_test_importer.ko.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_TI_LIB_H
#define P2PBUF_TI_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "p2pgem_test_lib.h"
#include "../importer/p2pbuf_test_importer.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define MAX_ENTRIES 8192

/* How an importer reaches the memory it mapped. */
enum kind { K_SYSTEM, K_BUS, K_HOST_BRIDGE, K_IOMMU, K_MIXED };

extern const char *const kind_names[];

/* One exported buffer object of device 0. */
struct bo {
	int fd, dmabuf;
	uint32_t handle;
	uint64_t size, bar_start, bar_end;
	void *cpu;
};

/* A mapping as the importer sees it. */
struct mapping {
	struct p2pbuf_ti_map map;
	struct p2pbuf_ti_entry ent[MAX_ENTRIES];
	uint64_t total, max_seg;
	enum kind kind;
};

/*
 * What this topology (P2PBUF_TOPO) gives a reachable importer of VRAM;
 * system memory on a kernel without CONFIG_PCI_P2PDMA.
 */
enum kind topo_p2p_kind(void);
/*
 * The decision p2pgem_attachments shows where topo_p2p_kind() is K_SYSTEM
 * for a dynamic P2P importer: the host bridge (the blocked topology), or
 * the kernel (no CONFIG_PCI_P2PDMA).
 */
const char *topo_no_p2p_reason(void);
/* A sysfs attribute of a PCI function, its first line, or "". */
void pci_attr(const char *pci, const char *attr, char *buf, size_t len);
/* The index-th PCI function with this vendor and device id; 0 or -1. */
int pci_find(const char *vendor, const char *device, int index, char *name,
	     size_t len);
int edu_name(char *name, size_t len);
/* The PCI function behind a render node fd. */
int render_pci(int fd, char *name, size_t len);
int vram_bar(int fd, uint64_t *start, uint64_t *end);

int ti_open(void);
int ti_attach(int ti, int dmabuf, uint32_t mode, uint32_t flags,
	      const char *device);
int ti_map(int ti, struct mapping *m, struct bo *b);
int ti_dma(int ti, uint64_t offset, void *data, uint32_t len, uint32_t flags);

/* Create a buffer object on device 0, map it for the CPU and export it. */
int bo_new(struct bo *b, uint64_t size, uint32_t placement, uint32_t flags);
/* The same, after finding the edu device (skips without one). */
#define EDU_NAME_LEN 32
int edu_bo_new(struct bo *b, uint64_t size, uint32_t placement,
	       char edu[EDU_NAME_LEN]);
void bo_free(struct bo *b);
int bo_placement(struct bo *b);
int bo_idle(struct bo *b);
int kind_ok(const struct mapping *m, enum kind want);

#endif
