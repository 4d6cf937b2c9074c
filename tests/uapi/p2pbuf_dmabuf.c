// SPDX-License-Identifier: MIT
/*
 * p2pbuf_dmabuf: p2pgem's P2P-aware dma-buf export, seen from a real
 * importer (tests/importer/p2pbuf_test_importer.ko) acting for real PCI
 * functions of the emulated machine.
 *
 * Expectations follow the topology (P2PBUF_TOPO) and the booted kernel's
 * configuration: without CONFIG_PCI_P2PDMA every importer gets system
 * memory (decision kernel-without-pci-p2pdma); without
 * CONFIG_DMABUF_MOVE_NOTIFY every mapping pins the buffer (no eviction
 * while mapped, no move_notify).
 *
 * - matrix-*: {VRAM, system, VRAM-preferred} buffer objects x {static,
 *   dynamic, dynamic P2P} importers for the edu device: the residency and
 *   the kind of address the importer got on this topology (P2PBUF_TOPO),
 *   segments within the edu device's 64 KiB, self-import, pins, and the
 *   eviction of the mapped buffer object (EBUSY when pinned, else a
 *   move_notify, a re-map and the contents intact);
 * - peer-*: the other VRAM device and the NVMe controller as importers; a
 *   contiguous buffer object is a handful of segments;
 * - edu-dma-*: the edu device DMAs into and out of exported memory;
 * - evict-*: eviction while mapped, racing with device DMA, and after the
 *   last GEM handle is closed;
 * - pin-quota, pin-mixed, pin-on-map (what a mapping pins, by kernel),
 *   map-refused (the DMA API refuses what the decision allowed: ACS
 *   redirect turned on after the attach), sync-file (export),
 *   sync-file-import, vmap, debugfs-attachments (with pins and their
 *   cause), query (the P2P query ioctl against the mapping);
 * - copy-*: p2pgem as an importer: copies within a device, into and out of
 *   the other p2pgem device's buffer (device to device, with move_notify
 *   and re-map; without move_notify pinned only while a copy uses it), and
 *   from and to vgem and udmabuf;
 * - bad-input: every field of the test importer's ioctls.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>

#include "p2pbuf_ti_lib.h"
#include "../lib/sw_sync.h"

/* ---- the decision matrix ---- */

static int matrix(uint32_t placement, uint32_t mode)
{
	enum kind p2p = topo_p2p_kind(), want = K_SYSTEM;
	struct drm_p2pgem_gem_info info, info2;
	static struct mapping m;
	uint32_t handle2, notifies, maps;
	char edu[EDU_NAME_LEN];
	/* Static importers pin; without move_notify, so does every map. */
	int pinned = mode == P2PBUF_TI_STATIC || pins_on_map();
	struct bo b;
	int ti, fd2, ret;

	ret = edu_bo_new(&b, 1 * MiB, placement, edu);
	if (ret)
		return ret;
	if (mode == P2PBUF_TI_DYNAMIC_P2P && placement != P2PGEM_PLACEMENT_SYSTEM)
		want = p2p;
	fill_pattern(b.cpu, b.size, placement * 31 + mode);

	/* Self-import in another file: the same buffer object. */
	fd2 = p2p_open(0);
	CHECK(fd2 >= 0, "open");
	CHECK(!drmPrimeFDToHandle(fd2, b.dmabuf, &handle2), "import: %s",
	      strerror(errno));

	ti = ti_open();
	CHECK(ti >= 0, "open importer: %s", strerror(errno));
	CHECK_RET(ti_attach(ti, b.dmabuf, mode, 0, edu), 0);
	CHECK_RET(ti_map(ti, &m, &b), 0);
	CHECK_RET(p2p_info(b.fd, b.handle, &info), 0);
	CHECK_RET(p2p_info(fd2, handle2, &info2), 0);
	printf("# %s nents=%u max_seg=%" PRIu64 " move_notifies=%u pins=%u entry0=0x%llx%s\n",
	       kind_names[m.kind], m.map.nents, m.max_seg,
	       m.map.move_notifies, info.pin_count,
	       (unsigned long long)m.ent[0].dma_address,
	       m.ent[0].flags & P2PBUF_TI_BUS_ADDRESS ? " bus" : "");

	CHECK(kind_ok(&m, want), "mapped as %s, want %s", kind_names[m.kind],
	      kind_names[want]);
	CHECK(m.total == b.size, "segments cover %" PRIu64 " bytes, not %" PRIu64,
	      m.total, b.size);
	CHECK(m.max_seg <= 64 * KiB, "a segment of %" PRIu64 " bytes exceeds the edu device's 64 KiB",
	      m.max_seg);
	CHECK(info.attachments == 1 && info2.attachments == 1 &&
	      info2.size == info.size, "self-import is another object (attachments %u/%u)",
	      info.attachments, info2.attachments);
	CHECK(info.pin_count == (uint32_t)pinned, "pin_count %u, want %d",
	      info.pin_count, pinned);

	/* Evict the mapped buffer object, then map again. */
	notifies = m.map.move_notifies;
	maps = m.map.maps;
	ret = p2p_evict(b.fd, b.handle);
	if (pinned) {
		CHECK(ret == -EBUSY, "evicting a pinned buffer: %d, not -EBUSY", ret);
		CHECK_RET(p2p_info(b.fd, b.handle, &info2), 0);
		CHECK(info2.placement == info.placement && !m.map.move_notifies,
		      "pinned, yet moved (placement %u, was %u) or notified (%u)",
		      info2.placement, info.placement, m.map.move_notifies);
	} else {
		CHECK_RET(ret, 0);
		CHECK_RET(ti_map(ti, &m, &b), 0);
		if (info.placement == P2PGEM_PLACEMENT_VRAM) {
			CHECK(m.map.move_notifies > notifies,
			      "no move_notify for the eviction");
			CHECK(m.map.maps > maps, "no re-map after the eviction");
		}
		CHECK_RET(p2p_info(b.fd, b.handle, &info2), 0);
		CHECK(info2.placement == info.placement,
		      "placement %u after re-map, was %u", info2.placement,
		      info.placement);
		CHECK(kind_ok(&m, want), "re-mapped as %s, want %s",
		      kind_names[m.kind], kind_names[want]);
	}
	CHECK_RET(bo_idle(&b), 0);
	CHECK(check_pattern(b.cpu, b.size, placement * 31 + mode) == -1,
	      "contents changed");

	CHECK(!ioctl(ti, P2PBUF_TI_IOCTL_DETACH), "detach: %s", strerror(errno));
	CHECK_RET(p2p_info(b.fd, b.handle, &info), 0);
	CHECK(info.attachments == 0 && info.pin_count == 0,
	      "after detach: %u attachments, %u pins", info.attachments,
	      info.pin_count);
	close(ti);
	close(fd2);
	bo_free(&b);
	return 0;
}

#define MATRIX(pl, pname, mo, mname)					\
static int matrix_##pname##_##mname(void)				\
{									\
	return matrix(P2PGEM_PLACEMENT_##pl, P2PBUF_TI_##mo);		\
}
MATRIX(VRAM, vram, STATIC, static)
MATRIX(VRAM, vram, DYNAMIC, dynamic)
MATRIX(VRAM, vram, DYNAMIC_P2P, dynamic_p2p)
MATRIX(SYSTEM, system, STATIC, static)
MATRIX(SYSTEM, system, DYNAMIC, dynamic)
MATRIX(SYSTEM, system, DYNAMIC_P2P, dynamic_p2p)
MATRIX(VRAM_PREFERRED, preferred, STATIC, static)
MATRIX(VRAM_PREFERRED, preferred, DYNAMIC, dynamic)
MATRIX(VRAM_PREFERRED, preferred, DYNAMIC_P2P, dynamic_p2p)

/* ---- other importers: the second VRAM device, the NVMe controller ---- */

static int peer(const char *what, const char *device)
{
	enum kind want = topo_p2p_kind();
	static struct mapping m;
	struct bo b;
	int ti, ret;

	ret = bo_new(&b, 16 * MiB, P2PGEM_PLACEMENT_VRAM,
		     P2PGEM_CREATE_CONTIGUOUS);
	if (ret)
		return ret;
	ti = ti_open();
	CHECK(ti >= 0, "open importer");
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, device), 0);
	CHECK_RET(ti_map(ti, &m, &b), 0);
	printf("# %s %s: %s, %u segments, largest %" PRIu64 " KiB\n", what,
	       device, kind_names[m.kind], m.map.nents,
	       (uint64_t)(m.max_seg / KiB));
	CHECK(kind_ok(&m, want), "%s mapped as %s, want %s", what,
	      kind_names[m.kind], kind_names[want]);
	CHECK(m.total == b.size, "segments cover %" PRIu64, m.total);
	close(ti);
	bo_free(&b);
	return 0;
}

static int peer_vram(void)
{
	char pci[64];
	int fd = p2p_open(1);

	SKIP_UNLESS(fd >= 0, "no second p2pgem device");
	CHECK(!render_pci(fd, pci, sizeof(pci)), "PCI function of device 1");
	close(fd);
	return peer("VRAM device 1", pci);
}

static int peer_nvme(void)
{
	enum kind want = topo_p2p_kind();
	static struct mapping m;
	char pci[64];
	struct bo b;
	int ti, ret;

	SKIP_UNLESS(!pci_find("0x1b36", "0x0010", 0, pci, sizeof(pci)),
		    "no NVMe controller");
	ret = peer("NVMe", pci);
	if (ret)
		return ret;
	/* The NVMe's segment limit is 4 GiB: few entries for contiguous VRAM. */
	ret = bo_new(&b, 16 * MiB, P2PGEM_PLACEMENT_VRAM,
		     P2PGEM_CREATE_CONTIGUOUS);
	if (ret)
		return ret;
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, pci), 0);
	CHECK_RET(ti_map(ti, &m, &b), 0);
	if (want != K_SYSTEM)
		CHECK(m.map.nents <= 4, "contiguous 16 MiB in %u segments",
		      m.map.nents);
	close(ti);
	bo_free(&b);
	return 0;
}

/* ---- device DMA into and out of exported memory ---- */

static void pattern_bytes(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static int edu_dma_dir(uint32_t placement, uint32_t mode)
{
	static const uint64_t offsets[] = { 0, 300 * KiB + 4096 - 1000, 1 * MiB - 2048 };
	uint8_t out[2048], in[2048];
	char edu[EDU_NAME_LEN];
	struct bo b;
	int ti, ret;

	ret = edu_bo_new(&b, 1 * MiB, placement, edu);
	if (ret)
		return ret;
	memset(b.cpu, 0, b.size);
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, mode, 0, edu), 0);
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t off = offsets[i];

		/* Device -> buffer, checked by the CPU. */
		pattern_bytes(out, sizeof(out), i + 1);
		CHECK_RET(ti_dma(ti, off, out, sizeof(out),
				 P2PBUF_TI_DMA_TO_BUFFER), 0);
		CHECK_RET(bo_idle(&b), 0);
		CHECK(!memcmp((uint8_t *)b.cpu + off, out, sizeof(out)),
		      "DMA to offset %" PRIu64 ": the CPU reads other bytes", off);
		/* CPU -> buffer, read by the device. */
		pattern_bytes((uint8_t *)b.cpu + off, sizeof(in), i + 100);
		pattern_bytes(out, sizeof(out), i + 100);
		memset(in, 0, sizeof(in));
		CHECK_RET(ti_dma(ti, off, in, sizeof(in),
				 P2PBUF_TI_DMA_FROM_BUFFER), 0);
		CHECK(!memcmp(in, out, sizeof(in)),
		      "DMA from offset %" PRIu64 ": the device read other bytes", off);
	}
	printf("# placement now %d\n", bo_placement(&b));
	close(ti);
	bo_free(&b);
	return 0;
}

static int edu_dma_vram_p2p(void)
{
	return edu_dma_dir(P2PGEM_PLACEMENT_VRAM, P2PBUF_TI_DYNAMIC_P2P);
}

static int edu_dma_vram_static(void)
{
	return edu_dma_dir(P2PGEM_PLACEMENT_VRAM, P2PBUF_TI_STATIC);
}

static int edu_dma_system(void)
{
	return edu_dma_dir(P2PGEM_PLACEMENT_SYSTEM, P2PBUF_TI_DYNAMIC_P2P);
}

/* ---- eviction while mapped, and racing with device DMA ---- */

static int evict_race(void)
{
	uint8_t out[2048], in[2048];
	const int iterations = 12;
	enum kind want = topo_p2p_kind();
	static struct mapping m;
	char edu[EDU_NAME_LEN];
	/* Without move_notify the importer's mapping pins: no eviction. */
	int pinned = pins_on_map();
	struct bo b;
	int ti, ret, moved = 0;

	ret = edu_bo_new(&b, 256 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	for (int i = 0; i < iterations; i++) {
		uint64_t off = (uint64_t)(i * 5 % 60) * 4096;
		uint32_t before = m.map.move_notifies;

		/* The device writes; the eviction right behind must wait. */
		pattern_bytes(out, sizeof(out), i);
		CHECK_RET(ti_dma(ti, off, out, sizeof(out),
				 P2PBUF_TI_DMA_TO_BUFFER), 0);
		ret = p2p_evict(b.fd, b.handle);
		if (pinned) {
			CHECK(ret == -EBUSY, "iteration %d: evicting a mapped buffer: %d, not -EBUSY",
			      i, ret);
			CHECK(bo_placement(&b) == (want == K_SYSTEM ?
						   P2PGEM_PLACEMENT_SYSTEM :
						   P2PGEM_PLACEMENT_VRAM),
			      "iteration %d: a pinned buffer moved", i);
		} else {
			CHECK_RET(ret, 0);
			CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_SYSTEM,
			      "not in system memory after evict");
		}
		/* Re-map: back in VRAM for a P2P importer; bytes intact. */
		CHECK_RET(ti_map(ti, &m, &b), 0);
		moved += m.map.move_notifies > before;
		CHECK(kind_ok(&m, want), "iteration %d: re-mapped as %s", i,
		      kind_names[m.kind]);
		memset(in, 0, sizeof(in));
		CHECK_RET(ti_dma(ti, off, in, sizeof(in),
				 P2PBUF_TI_DMA_FROM_BUFFER), 0);
		CHECK(!memcmp(in, out, sizeof(in)),
		      "iteration %d: the device reads other bytes after the move", i);
		CHECK_RET(bo_idle(&b), 0);
		CHECK(!memcmp((uint8_t *)b.cpu + off, out, sizeof(out)),
		      "iteration %d: the CPU reads other bytes", i);
	}
	printf("# %d iterations, %d with a move_notify, %u re-maps\n",
	       iterations, moved, m.map.maps);
	if (pinned)
		CHECK(!moved && m.map.maps == 1,
		      "pinned: %d move_notifies, %u maps", moved, m.map.maps);
	else if (want != K_SYSTEM)
		CHECK(moved == iterations, "%d move_notifies for %d evictions",
		      moved, iterations);
	close(ti);
	bo_free(&b);
	return 0;
}

/* Another process evicts in a loop while the device DMAs. */
static int evict_race_process(void)
{
	const int iterations = 10;
	uint8_t out[2048];
	char edu[EDU_NAME_LEN];
	struct bo b;
	int ti, ret, status, busy_ok;
	pid_t pid;

	ret = edu_bo_new(&b, 128 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	memset(b.cpu, 0, b.size);
	busy_ok = pins_on_map();
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		/* Its own file, the same buffer object through the dma-buf. */
		uint32_t h;
		int fd = p2p_open(0);

		if (fd < 0 || drmPrimeFDToHandle(fd, b.dmabuf, &h))
			_exit(2);
		for (int i = 0; i < 200; i++) {
			int r = p2p_evict(fd, h);

			/* Refused while the importer has it mapped (pinned). */
			if (r && r != -EINTR && !(busy_ok && r == -EBUSY))
				_exit(3);
			usleep(20000);
		}
		_exit(0);
	}
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	for (int i = 0; i < iterations; i++) {
		pattern_bytes(out, sizeof(out), 1000 + i);
		CHECK_RET(ti_dma(ti, (uint64_t)(i % 32) * 4096, out, sizeof(out),
				 P2PBUF_TI_DMA_TO_BUFFER), 0);
	}
	CHECK_RET(bo_idle(&b), 0);
	for (int i = 0; i < iterations; i++) {
		pattern_bytes(out, sizeof(out), 1000 + i);
		CHECK(!memcmp((uint8_t *)b.cpu + (i % 32) * 4096, out,
			      sizeof(out)), "DMA %d lost under eviction", i);
	}
	close(ti);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "evicting process failed (%d)", status);
	bo_free(&b);
	return 0;
}

/*
 * The GEM handle is closed, the dma-buf lives on: an eviction under memory
 * pressure must still reach the importer. Without move_notify the mapping
 * pins the buffer instead: filling the window leaves it where it is.
 */
static int evict_handle_closed(void)
{
	struct drm_p2pgem_device_info di;
	struct p2pbuf_ti_status st;
	static struct mapping m;
	uint32_t filler[16];
	unsigned int n = 0;
	char edu[EDU_NAME_LEN];
	int pinned = pins_on_map();
	struct bo b;
	int ti, ret;

	SKIP_UNLESS(topo_p2p_kind() != K_SYSTEM, "no P2P on this topology");
	ret = edu_bo_new(&b, 1 * MiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	CHECK_RET(ti_map(ti, &m, &b), 0);
	CHECK(m.kind != K_SYSTEM, "not mapped in VRAM");
	CHECK_RET(p2p_dev_info(b.fd, &di), 0);
	munmap(b.cpu, b.size);
	CHECK_RET(p2p_close_bo(b.fd, b.handle), 0);

	/* Fill the visible window with buffers that must live there. */
	for (uint64_t left = di.visible_size; left && n < 16; n++) {
		uint64_t sz = left < 8 * MiB ? left : 8 * MiB;

		ret = p2p_create(b.fd, sz, P2PGEM_PLACEMENT_VRAM,
				 P2PGEM_CREATE_CPU_ACCESS, &filler[n]);
		/* The pinned buffer keeps its part of the window. */
		if (pinned && ret == -ENOMEM)
			break;
		CHECK_RET(ret, 0);
		left -= sz;
	}
	CHECK(!ioctl(ti, P2PBUF_TI_IOCTL_STATUS, &st), "status: %s",
	      strerror(errno));
	if (pinned)
		CHECK(!st.move_notifies && st.mapped,
		      "pinned without a handle: %u move_notifies, mapped %u",
		      st.move_notifies, st.mapped);
	else
		CHECK(st.move_notifies >= 1 && !st.mapped,
		      "evicted without a handle: %u move_notifies, mapped %u",
		      st.move_notifies, st.mapped);
	while (n--)
		CHECK_RET(p2p_close_bo(b.fd, filler[n]), 0);
	/* Re-map: the contents came along. */
	{
		uint8_t in[2048], want[2048];

		CHECK_RET(ti_dma(ti, 4096, in, sizeof(in),
				 P2PBUF_TI_DMA_FROM_BUFFER), 0);
		memset(want, 0, sizeof(want));
		CHECK(!memcmp(in, want, sizeof(in)), "contents changed");
	}
	close(ti);
	close(b.dmabuf);
	close(b.fd);
	return 0;
}

/* ---- pins and the pin quota ---- */

/*
 * The two buffers of the pin tests: @a takes most of the pin quota (its
 * size in *@first), @b more than what is left. Reads the device info into
 * @di first, with nothing pinned yet.
 */
static int quota_bos(struct bo *a, struct bo *b,
		     struct drm_p2pgem_device_info *di, uint64_t *first)
{
	int ret;

	ret = bo_new(a, 4 * KiB, P2PGEM_PLACEMENT_VRAM, 0);
	if (ret)
		return ret;
	CHECK_RET(p2p_dev_info(a->fd, di), 0);
	CHECK(di->pin_quota && di->pin_quota <= di->vram_size, "pin_quota %llu",
	      (unsigned long long)di->pin_quota);
	CHECK(di->pinned_vram == 0, "pinned_vram %llu before any pin or map",
	      (unsigned long long)di->pinned_vram);
	bo_free(a);

	*first = di->pin_quota - di->pin_quota / 4;
	CHECK(*first <= di->visible_size, "quota larger than the visible window");
	CHECK_RET(bo_new(a, *first, P2PGEM_PLACEMENT_VRAM, 0), 0);
	CHECK_RET(bo_new(b, di->pin_quota / 2, P2PGEM_PLACEMENT_VRAM, 0), 0);
	return 0;
}

static int pin_quota(void)
{
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	int p2p = topo_p2p_kind() != K_SYSTEM;
	uint64_t first;
	struct bo a, b;
	char edu[EDU_NAME_LEN];
	int ti1, ti2, ret;

	SKIP_UNLESS(!edu_name(edu, sizeof(edu)), "no edu device");
	ret = quota_bos(&a, &b, &di, &first);
	if (ret)
		return ret;
	ti1 = ti_open();
	ti2 = ti_open();
	CHECK_RET(ti_attach(ti1, a.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    P2PBUF_TI_ATTACH_PIN, edu), 0);
	CHECK_RET(p2p_info(a.fd, a.handle, &info), 0);
	CHECK(info.pin_count == 1, "pin_count %u", info.pin_count);
	CHECK(info.placement == (p2p ? P2PGEM_PLACEMENT_VRAM : P2PGEM_PLACEMENT_SYSTEM),
	      "pinned in placement %u", info.placement);
	CHECK_RET(p2p_dev_info(a.fd, &di), 0);
	CHECK(di.pinned_vram == (p2p ? first : 0), "pinned_vram %llu",
	      (unsigned long long)di.pinned_vram);
	CHECK_RET(p2p_evict(a.fd, a.handle), -EBUSY);

	/* Over the quota: pinned in system memory instead. */
	CHECK_RET(ti_attach(ti2, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    P2PBUF_TI_ATTACH_PIN, edu), 0);
	CHECK_RET(p2p_info(b.fd, b.handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM,
	      "over the quota, pinned in placement %u", info.placement);
	CHECK_RET(p2p_dev_info(a.fd, &di), 0);
	CHECK(di.pinned_vram == (p2p ? first : 0), "pinned_vram %llu",
	      (unsigned long long)di.pinned_vram);
	CHECK_RET(p2p_evict(b.fd, b.handle), -EBUSY);

	close(ti1);
	close(ti2);
	CHECK_RET(p2p_dev_info(a.fd, &di), 0);
	CHECK(di.pinned_vram == 0, "pinned_vram %llu after unpin",
	      (unsigned long long)di.pinned_vram);
	CHECK_RET(p2p_info(a.fd, a.handle, &info), 0);
	CHECK(info.pin_count == 0, "pin_count %u after unpin", info.pin_count);
	CHECK_RET(p2p_evict(a.fd, a.handle), 0);
	bo_free(&a);
	bo_free(&b);
	return 0;
}

/* A buffer pinned in VRAM for a P2P importer refuses a non-P2P one. */
static int pin_mixed(void)
{
	char edu[EDU_NAME_LEN];
	struct bo b;
	int ti1, ti2, ret;

	SKIP_UNLESS(topo_p2p_kind() != K_SYSTEM, "no P2P on this topology");
	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	ti1 = ti_open();
	ti2 = ti_open();
	CHECK_RET(ti_attach(ti1, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    P2PBUF_TI_ATTACH_PIN, edu), 0);
	CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_VRAM, "not pinned in VRAM");
	CHECK_RET(ti_attach(ti2, b.dmabuf, P2PBUF_TI_STATIC, 0, edu), -EBUSY);
	close(ti1);
	/* Unpinned: the static importer gets it in system memory. */
	CHECK_RET(ti_attach(ti2, b.dmabuf, P2PBUF_TI_STATIC, 0, edu), 0);
	CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_SYSTEM,
	      "static importer not in system memory");
	close(ti2);
	bo_free(&b);
	return 0;
}

/*
 * What a mapping pins. A kernel without CONFIG_DMABUF_MOVE_NOTIFY pins the
 * buffer for each mapping of a dynamic importer, by the pin rule: a P2P
 * importer's buffer in VRAM, charged to the pin quota, one beyond the
 * quota in system memory. The eviction of either is refused with EBUSY,
 * no importer hears of a move, a non-P2P importer cannot map a buffer
 * pinned in VRAM for another (EBUSY), and detaching gives it all back.
 * With move_notify a mapping pins nothing.
 */
static int pin_on_map(void)
{
	int p2p = topo_p2p_kind() != K_SYSTEM, pinned = pins_on_map();
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	struct p2pbuf_ti_status st;
	static struct mapping m;
	char edu[EDU_NAME_LEN];
	uint64_t first;
	int ti1, ti2, ti3, ret;
	struct bo a, b;

	SKIP_UNLESS(!edu_name(edu, sizeof(edu)), "no edu device");
	ret = quota_bos(&a, &b, &di, &first);
	if (ret)
		return ret;
	ti1 = ti_open();
	ti2 = ti_open();
	ti3 = ti_open();
	CHECK(ti1 >= 0 && ti2 >= 0 && ti3 >= 0, "open the test importer");

	CHECK_RET(ti_attach(ti1, a.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	CHECK_RET(ti_map(ti1, &m, &a), 0);
	CHECK(kind_ok(&m, topo_p2p_kind()), "mapped as %s", kind_names[m.kind]);
	CHECK_RET(p2p_info(a.fd, a.handle, &info), 0);
	CHECK(info.pin_count == (uint32_t)pinned, "mapped: pin_count %u",
	      info.pin_count);
	CHECK_RET(p2p_dev_info(a.fd, &di), 0);
	CHECK(di.pinned_vram == (pinned && p2p ? first : 0),
	      "mapped: pinned_vram %llu", (unsigned long long)di.pinned_vram);
	CHECK_RET(p2p_evict(a.fd, a.handle), pinned ? -EBUSY : 0);

	/* Beyond the quota: pinned, but in system memory. */
	CHECK_RET(ti_attach(ti2, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	CHECK_RET(ti_map(ti2, &m, &b), 0);
	if (pinned) {
		CHECK(m.kind == K_SYSTEM && bo_placement(&b) == P2PGEM_PLACEMENT_SYSTEM,
		      "over the quota: mapped as %s", kind_names[m.kind]);
		CHECK_RET(p2p_evict(b.fd, b.handle), -EBUSY);
	}
	CHECK_RET(p2p_dev_info(a.fd, &di), 0);
	CHECK(di.pinned_vram == (pinned && p2p ? first : 0),
	      "over the quota: pinned_vram %llu",
	      (unsigned long long)di.pinned_vram);

	/*
	 * An importer without peer2peer: pinned in VRAM for the first, the
	 * buffer cannot go to system memory for it. With move_notify the
	 * map moves it there, and the first importer hears of it.
	 */
	CHECK_RET(ti_attach(ti3, a.dmabuf, P2PBUF_TI_DYNAMIC, 0, edu), 0);
	CHECK_RET(ti_map(ti3, &m, &a), pinned && p2p ? -EBUSY : 0);

	CHECK(!ioctl(ti1, P2PBUF_TI_IOCTL_STATUS, &st), "status: %s",
	      strerror(errno));
	if (pinned)
		CHECK(!st.move_notifies && st.mapped,
		      "pinned: %u move_notifies, mapped %u", st.move_notifies,
		      st.mapped);
	else if (p2p)
		CHECK(st.move_notifies && !st.mapped,
		      "moved for another importer: %u move_notifies, mapped %u",
		      st.move_notifies, st.mapped);
	CHECK(!ioctl(ti2, P2PBUF_TI_IOCTL_STATUS, &st), "status: %s",
	      strerror(errno));
	CHECK(!pinned || !st.move_notifies, "pinned: %u move_notifies",
	      st.move_notifies);

	/* Unmapped (detached), everything comes back. */
	close(ti3);
	close(ti2);
	close(ti1);
	CHECK_RET(p2p_dev_info(a.fd, &di), 0);
	CHECK(di.pinned_vram == 0, "pinned_vram %llu after detach",
	      (unsigned long long)di.pinned_vram);
	CHECK_RET(p2p_info(a.fd, a.handle, &info), 0);
	CHECK(info.pin_count == 0, "pin_count %u after detach", info.pin_count);
	CHECK_RET(p2p_evict(a.fd, a.handle), 0);
	CHECK_RET(p2p_evict(b.fd, b.handle), 0);
	bo_free(&a);
	bo_free(&b);
	return 0;
}

/* ---- the DMA API refuses what the decision allowed ---- */

#define PCI_EXT_CAP_ACS		0x0d
#define PCI_ACS_CTRL_OFF	6
#define PCI_ACS_RR_CR		0x000c	/* P2P request and completion redirect */

/* The PCI function @pci sits below: its upstream bridge, from sysfs. */
static int upstream_bridge(const char *pci, char *up, size_t len)
{
	char path[128], real[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", pci);
	if (!realpath(path, real))
		return -1;
	slash = strrchr(real, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	slash = strrchr(real, '/');
	if (!slash || strlen(slash + 1) >= len || !strchr(slash + 1, ':'))
		return -1;
	memcpy(up, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

/* Read or write @len bytes of @pci's config space at @off: 0 or -errno. */
static int pci_config(const char *pci, int write, unsigned int off, void *buf,
		      size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", pci);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* The offset of extended capability @id of @pci, or 0. */
static unsigned int pci_ext_cap(const char *pci, uint16_t id)
{
	unsigned int off = 0x100, hops = 0;
	uint32_t h;

	while (off >= 0x100 && hops++ < 64) {
		if (pci_config(pci, 0, off, &h, sizeof(h)) || !h || h == ~0u)
			return 0;
		if ((h & 0xffff) == id)
			return off;
		off = (h >> 20) & 0xffc;
	}
	return 0;
}

/* The P2P query of @b's device for PCI function @pci. */
static int p2p_query(struct bo *b, const char *pci, uint32_t *reason);
/* The attachment line of @importer in device @fd's p2pgem_attachments. */
static int attachment_line(int fd, const char *importer, char *line,
			   size_t len);
static int read_attachments(int fd, char *buf, size_t len);

/*
 * With ACS redirect on, the map of the attachment: the DMA API refuses the
 * P2P pages, and the importer gets system memory (dma-map-refused).
 */
static int map_refused_map(struct bo *b, int ti, const char *edu)
{
	int pinned = pins_on_map();
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	uint8_t out[2048], in[2048];
	static struct mapping m;
	char line[256], want[192];

	CHECK_RET(ti_map(ti, &m, b), 0);
	CHECK(m.kind == K_SYSTEM, "mapped as %s after the DMA API refused",
	      kind_names[m.kind]);
	CHECK(!attachment_line(b->fd, edu, line, sizeof(line)),
	      "no attachment of %s", edu);
	printf("# %s\n", line);
	/* Without move_notify the core pinned it (in VRAM, by the rule) first. */
	snprintf(want, sizeof(want),
		 "%s dynamic peer2peer dma-map-refused system %d 1 %s %s", edu,
		 pinned, pinned ? "system" : "-",
		 pinned ? "mapped-without-move-notify" : "-");
	CHECK(!strncmp(line, want, strlen(want)), "want '%s', got '%s'", want,
	      line);
	CHECK_RET(p2p_info(b->fd, b->handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM &&
	      info.pin_count == (uint32_t)pinned,
	      "placement %u, pin_count %u", info.placement, info.pin_count);
	CHECK_RET(p2p_dev_info(b->fd, &di), 0);
	CHECK(!di.pinned_vram, "pinned_vram %llu: the quota was not given back",
	      (unsigned long long)di.pinned_vram);
	/* The device reaches it there. */
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 11 + 3);
	CHECK_RET(ti_dma(ti, 4096, out, sizeof(out), P2PBUF_TI_DMA_TO_BUFFER), 0);
	CHECK_RET(bo_idle(b), 0);
	CHECK(!memcmp((uint8_t *)b->cpu + 4096, out, sizeof(out)),
	      "the CPU reads other bytes");
	CHECK_RET(ti_dma(ti, 4096, in, sizeof(in), P2PBUF_TI_DMA_FROM_BUFFER), 0);
	CHECK(!memcmp(in, out, sizeof(in)), "the device reads other bytes");
	return 0;
}

/*
 * The decision is taken at attach; the DMA API decides at map. Turn ACS
 * redirect on at the edu device's switch port after the attach, and have
 * the kernel look at the pair again (the P2P query's distance, which it
 * caches for the map): the map of the P2P pages fails with -EREMOTEIO.
 * p2pgem must fall back to system memory, also where the dma-buf core
 * pinned the buffer in VRAM right before the map (no move_notify). Needs a
 * switch port with ACS and a host bridge that does not forward P2P.
 */
static int map_refused(void)
{
	uint16_t ctrl, redirect;
	char edu[EDU_NAME_LEN], port[64];
	unsigned int acs;
	uint32_t reason;
	struct bo b;
	int ti, ret;

	SKIP_UNLESS(topo_p2p_kind() == K_BUS, "needs a switch (P2P by bus address)");
	SKIP_UNLESS(!edu_name(edu, sizeof(edu)), "no edu device");
	CHECK(!upstream_bridge(edu, port, sizeof(port)), "upstream bridge of %s",
	      edu);
	acs = pci_ext_cap(port, PCI_EXT_CAP_ACS);
	SKIP_UNLESS(acs, "%s has no ACS capability", port);
	CHECK_RET(pci_config(port, 0, acs + PCI_ACS_CTRL_OFF, &ctrl,
			     sizeof(ctrl)), 0);
	ret = bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, 0);
	if (ret)
		return ret;
	fill_pattern(b.cpu, b.size, 61);
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	CHECK_RET(p2p_query(&b, edu, &reason), 0);
	CHECK(reason == P2PGEM_P2P_OK, "before: answer %u", reason);

	redirect = ctrl | PCI_ACS_RR_CR;
	CHECK_RET(pci_config(port, 1, acs + PCI_ACS_CTRL_OFF, &redirect,
			     sizeof(redirect)), 0);
	ret = p2p_query(&b, edu, &reason);
	if (!ret && reason == P2PGEM_P2P_ACS_REDIRECT) {
		ret = map_refused_map(&b, ti, edu);
	} else if (!ret) {
		snprintf(t_reason, sizeof(t_reason),
			 "with ACS redirect at %s the answer is %u: the host bridge forwards P2P",
			 port, reason);
		ret = SKIP;
	}
	/* Back as it was, and the kernel's cached verdict with it (asked
	 * unpinned: a pin in system memory would be the answer). */
	ioctl(ti, P2PBUF_TI_IOCTL_DETACH);
	if (pci_config(port, 1, acs + PCI_ACS_CTRL_OFF, &ctrl, sizeof(ctrl)) ||
	    p2p_query(&b, edu, &reason) || reason != P2PGEM_P2P_OK) {
		snprintf(t_reason, sizeof(t_reason),
			 "ACS control of %s not restored (answer %u)", port,
			 reason);
		return -1;
	}
	if (ret)
		return ret;
	close(ti);
	bo_free(&b);
	return 0;
}

/* ---- sync_file: the device's DMA fence, seen from userspace ---- */

static int sync_file(void)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_READ };
	uint8_t out[2048];
	struct pollfd pfd;
	char edu[EDU_NAME_LEN];
	struct bo b;
	int ti, ret;

	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	memset(b.cpu, 0, b.size);
	CHECK_RET(bo_idle(&b), 0);
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	pattern_bytes(out, sizeof(out), 77);
	CHECK_RET(ti_dma(ti, 8192, out, sizeof(out), P2PBUF_TI_DMA_TO_BUFFER), 0);
	/* A reader must wait for the device's write: it takes ~200 ms. */
	CHECK(!ioctl(b.dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp),
	      "EXPORT_SYNC_FILE: %s", strerror(errno));
	pfd = (struct pollfd){ .fd = exp.fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0, "the sync_file is signalled before the DMA ran");
	CHECK(poll(&pfd, 1, 20000) == 1, "the sync_file never signalled");
	CHECK(!memcmp((uint8_t *)b.cpu + 8192, out, sizeof(out)),
	      "signalled, but the bytes are not there");
	close(exp.fd);
	close(ti);
	bo_free(&b);
	return 0;
}

/*
 * A fence imported from userspace orders the exporter's move, and the
 * move orders the importer's next DMA: a device read after an eviction
 * waits for the userspace fence.
 */
static int sync_file_import(void)
{
	struct sw_sync_create_fence_data fence = { .value = 1,
						   .name = "p2pbuf-test" };
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	uint8_t in[2048];
	static struct mapping m;
	struct pollfd pfd;
	int ti, timeline, pipefd[2], status, ret;
	uint32_t one = 1;
	char edu[EDU_NAME_LEN];
	struct bo b;
	pid_t pid;

	/* Without P2P the importer's map already put the buffer in system
	 * memory, and the eviction below would move nothing. */
	SKIP_UNLESS(topo_p2p_kind() != K_SYSTEM, "no P2P on this topology");
	SKIP_UNLESS(!edu_name(edu, sizeof(edu)), "no edu device");
	timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	SKIP_UNLESS(timeline >= 0, "no sw_sync");
	ret = bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, 0);
	if (ret)
		return ret;
	fill_pattern(b.cpu, b.size, 21);
	CHECK_RET(bo_idle(&b), 0);
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	/*
	 * Mapped, the buffer would be pinned on a kernel without move_notify
	 * and the eviction refused: there the read below maps it first, and
	 * its pin, which brings the buffer back to VRAM, waits for the move.
	 */
	if (!pins_on_map())
		CHECK_RET(ti_map(ti, &m, &b), 0);

	CHECK(!ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &fence),
	      "SW_SYNC_IOC_CREATE_FENCE: %s", strerror(errno));
	imp.fd = fence.fence;
	CHECK(!ioctl(b.dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp),
	      "IMPORT_SYNC_FILE: %s", strerror(errno));
	close(fence.fence);
	/* The move is queued behind the userspace fence. */
	CHECK_RET(p2p_evict(b.fd, b.handle), 0);

	CHECK(!pipe(pipefd), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		close(pipefd[0]);
		if (ti_dma(ti, 0, in, sizeof(in), P2PBUF_TI_DMA_FROM_BUFFER) ||
		    write(pipefd[1], in, sizeof(in)) != sizeof(in))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	pfd = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
	CHECK(poll(&pfd, 1, 500) == 0,
	      "the device read the buffer before the userspace fence signalled");
	CHECK(!ioctl(timeline, SW_SYNC_IOC_INC, &one), "SW_SYNC_IOC_INC");
	CHECK(poll(&pfd, 1, 20000) == 1, "the device read never completed");
	CHECK(read(pipefd[0], in, sizeof(in)) == sizeof(in), "short read");
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "reader failed");
	CHECK(check_pattern(in, sizeof(in), 21) == -1,
	      "the device read other bytes after the move");
	CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_VRAM,
	      "the re-map did not bring the buffer back to VRAM");
	close(pipefd[0]);
	close(ti);
	close(timeline);
	bo_free(&b);
	return 0;
}

/* ---- kernel CPU access: dma_buf_vmap() through the test importer ---- */

static int ti_cpu(int ti, int dmabuf, uint64_t offset, void *data,
		  uint32_t len, uint32_t flags)
{
	struct p2pbuf_ti_cpu c = { .data = (uintptr_t)data, .offset = offset,
				   .length = len, .flags = flags,
				   .fd = dmabuf };

	return ioctl(ti, P2PBUF_TI_IOCTL_CPU, &c) ? -errno : 0;
}

static int vmap(void)
{
	uint8_t out[8192], in[8192];
	char edu[EDU_NAME_LEN];
	struct bo b;
	int ti, ti2, ret;

	ret = bo_new(&b, 256 * KiB, P2PGEM_PLACEMENT_VRAM, 0);
	if (ret)
		return ret;
	fill_pattern(b.cpu, b.size, 9);
	ti = ti_open();
	/* Read what the CPU wrote through its mapping, from VRAM. */
	CHECK_RET(ti_cpu(ti, b.dmabuf, 0, in, sizeof(in), P2PBUF_TI_CPU_READ), 0);
	CHECK(check_pattern(in, sizeof(in), 9) == -1, "vmap reads other bytes");
	CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_SYSTEM,
	      "vmap did not place the buffer in system memory");
	/* Write through vmap; userspace sees it. */
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 1);
	CHECK_RET(ti_cpu(ti, b.dmabuf, 64 * KiB + 3, out, sizeof(out),
			 P2PBUF_TI_CPU_WRITE), 0);
	CHECK(!memcmp((uint8_t *)b.cpu + 64 * KiB + 3, out, sizeof(out)),
	      "the CPU mapping does not see the vmap write");

	CHECK_RET(ti_cpu(ti, b.dmabuf, 0, in, 16, 0), -EINVAL);
	CHECK_RET(ti_cpu(ti, b.dmabuf, 0, in, 16, 3), -EINVAL);
	CHECK_RET(ti_cpu(ti, b.dmabuf, 0, in, 0, P2PBUF_TI_CPU_READ), -EINVAL);
	CHECK_RET(ti_cpu(ti, b.dmabuf, b.size - 8, in, 16, P2PBUF_TI_CPU_READ),
		  -EINVAL);
	CHECK_RET(ti_cpu(ti, -1, 0, in, 16, P2PBUF_TI_CPU_READ), -EBADF);
	CHECK_RET(ti_cpu(ti, b.fd, 0, in, 16, P2PBUF_TI_CPU_READ), -EINVAL);
	CHECK_RET(ti_cpu(ti, b.dmabuf, 0, (void *)8, 16, P2PBUF_TI_CPU_READ),
		  -EFAULT);
	{
		struct p2pbuf_ti_cpu c = { .data = (uintptr_t)in, .length = 16,
					   .flags = P2PBUF_TI_CPU_READ,
					   .fd = b.dmabuf, .pad = 1 };

		CHECK(ioctl(ti, P2PBUF_TI_IOCTL_CPU, &c) && errno == EINVAL,
		      "CPU with pad");
	}

	/* Pinned in VRAM for a P2P importer: vmapped there, its BAR pages. */
	if (topo_p2p_kind() != K_SYSTEM && !edu_name(edu, sizeof(edu))) {
		ti2 = ti_open();
		CHECK_RET(ti_attach(ti2, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
				    P2PBUF_TI_ATTACH_PIN, edu), 0);
		CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_VRAM, "pin in VRAM");
		fill_pattern(b.cpu, b.size, 10);
		CHECK_RET(ti_cpu(ti, b.dmabuf, 128 * KiB, in, sizeof(in),
				 P2PBUF_TI_CPU_READ), 0);
		CHECK(!memcmp(in, (uint8_t *)b.cpu + 128 * KiB, sizeof(in)),
		      "vmap of pinned VRAM reads other bytes");
		CHECK_RET(ti_cpu(ti, b.dmabuf, 4 * KiB, out, sizeof(out),
				 P2PBUF_TI_CPU_WRITE), 0);
		CHECK(!memcmp((uint8_t *)b.cpu + 4 * KiB, out, sizeof(out)),
		      "the CPU mapping does not see the vmap write to VRAM");
		CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_VRAM,
		      "vmap moved a buffer pinned in VRAM");
		close(ti2);
	}
	close(ti);
	bo_free(&b);
	return 0;
}

/* ---- debugfs: every attachment with its decision ---- */

static int debugfs_attachments(void)
{
	char edu[EDU_NAME_LEN], buf[8192], want[192];
	int p2p = topo_p2p_kind() != K_SYSTEM, pinned = pins_on_map();
	const char *reason = p2p ? "p2p" : topo_no_p2p_reason();
	static struct mapping m;
	struct bo b, s;
	int ti, ti2, ret;

	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	CHECK_RET(bo_new(&s, 64 * KiB, P2PGEM_PLACEMENT_SYSTEM, 0), 0);
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	CHECK_RET(ti_map(ti, &m, &b), 0);
	/* A static importer of another buffer object, pinned by the core. */
	ti2 = ti_open();
	CHECK_RET(ti_attach(ti2, s.dmabuf, P2PBUF_TI_STATIC, 0, edu), 0);
	CHECK(!read_attachments(b.fd, buf, sizeof(buf)),
	      "read p2pgem_attachments");
	CHECK(!strncmp(buf, "bo importer kind peer2peer decision mapped pins mappings pinned-in pin-cause\n",
		       strlen("bo importer kind peer2peer decision mapped pins mappings pinned-in pin-cause\n")),
	      "header: %.100s", buf);
	/*
	 * The mapping, its pins, where they hold the buffer and why: without
	 * move_notify the mapping itself pins it.
	 */
	snprintf(want, sizeof(want), " %s dynamic peer2peer %s %s %d 1 %s %s\n",
		 edu, reason, p2p ? "p2p" : "system", pinned,
		 !pinned ? "-" : p2p ? "vram" : "system",
		 pinned ? "mapped-without-move-notify" : "-");
	CHECK(strstr(buf, want), "no '%s' in:\n%.250s", want, buf);
	snprintf(want, sizeof(want),
		 " %s static no-peer2peer importer-no-peer2peer system 1 1 system static-importer\n",
		 edu);
	CHECK(strstr(buf, want), "no '%s' in:\n%.250s", want, buf);
	close(ti2);
	close(ti);
	bo_free(&s);
	bo_free(&b);
	return 0;
}

/* ---- the P2P query agrees with what a real importer gets ---- */

static int p2p_query(struct bo *b, const char *pci, uint32_t *reason)
{
	struct drm_p2pgem_gem_p2p_query q = { .handle = b->handle };
	unsigned int dom, bus, dev, fn;

	if (sscanf(pci, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	q.domain = dom;
	q.bus = bus;
	q.devfn = dev << 3 | fn;
	if (p2p_ioctl(b->fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q))
		return -errno;
	*reason = q.reason;
	return 0;
}

static int query(void)
{
	uint32_t want = topo_p2p_kind() != K_SYSTEM ? P2PGEM_P2P_OK :
		kconfig_on("PCI_P2PDMA") ? P2PGEM_P2P_HOST_BRIDGE :
		P2PGEM_P2P_NO_P2PDMA, reason;
	static struct mapping m;
	char edu[EDU_NAME_LEN];
	struct bo b, s;
	int ti, ret;

	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	CHECK_RET(p2p_query(&b, edu, &reason), 0);
	CHECK(reason == want, "edu: answer %u, want %u", reason, want);

	/* What a dynamic P2P importer then really gets agrees. */
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	CHECK_RET(ti_map(ti, &m, &b), 0);
	CHECK((m.kind != K_SYSTEM) == (want == P2PGEM_P2P_OK),
	      "answer %u, but the importer got %s", reason,
	      kind_names[m.kind]);
	close(ti);

	/* Pinned in system memory by a static importer: ruled out. */
	ti = ti_open();
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_STATIC, 0, edu), 0);
	CHECK_RET(p2p_query(&b, edu, &reason), 0);
	if (want == P2PGEM_P2P_OK)
		CHECK(reason == P2PGEM_P2P_PINNED_SYSTEM,
		      "pinned in system memory: answer %u", reason);
	close(ti);

	CHECK_RET(bo_new(&s, 64 * KiB, P2PGEM_PLACEMENT_SYSTEM, 0), 0);
	CHECK_RET(p2p_query(&s, edu, &reason), 0);
	CHECK(reason == P2PGEM_P2P_SYSTEM_PLACEMENT, "system buffer: answer %u",
	      reason);
	bo_free(&s);
	bo_free(&b);
	return 0;
}

/* ---- p2pgem as an importer: copies between buffers ---- */

/* Copy on @fd and wait for the destination. */
static int copy_wait(int fd, uint32_t src, uint64_t so, uint32_t dst,
		     uint64_t dof, uint64_t size)
{
	int ret = p2p_copy(fd, src, so, dst, dof, size);

	return ret ? ret : p2p_wait(fd, dst, 20000000000ll);
}

/* Within device 0: VRAM -> system -> VRAM, and inside one buffer. */
static int copy_local(void)
{
	const uint64_t size = 1 * MiB;
	uint32_t vram, sys, vram2;
	uint8_t *a, *b, *c;
	int fd;

	fd = p2p_open(0);
	SKIP_UNLESS(fd >= 0, "no p2pgem device");
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &vram), 0);
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_SYSTEM, 0, &sys), 0);
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &vram2), 0);
	a = p2p_map(fd, vram, size);
	b = p2p_map(fd, sys, size);
	c = p2p_map(fd, vram2, size);
	CHECK(a && b && c, "mmap");
	fill_pattern(a, size, 31);
	CHECK_RET(copy_wait(fd, vram, 64 * KiB, sys, 128 * KiB, 512 * KiB), 0);
	CHECK(!memcmp(b + 128 * KiB, a + 64 * KiB, 512 * KiB),
	      "VRAM -> system: other bytes");
	CHECK(check_zero(b, 128 * KiB) < 0, "bytes before the range written");
	CHECK_RET(copy_wait(fd, sys, 0, vram2, 0, size), 0);
	CHECK(!memcmp(c, b, size), "system -> VRAM: other bytes");
	/* One buffer, two ranges that do not overlap. */
	CHECK_RET(copy_wait(fd, vram, 0, vram, 512 * KiB, 256 * KiB), 0);
	CHECK(check_pattern(a, 256 * KiB, 31) == -1, "the source range changed");
	{
		uint8_t *want = malloc(256 * KiB);

		CHECK(want, "malloc");
		fill_pattern(want, 256 * KiB, 31);
		CHECK(!memcmp(a + 512 * KiB, want, 256 * KiB),
		      "copy inside one buffer: other bytes");
		free(want);
	}
	munmap(a, size);
	munmap(b, size);
	munmap(c, size);
	close(fd);
	return 0;
}

/* The attachment line of @importer in device @fd's p2pgem_attachments. */
/*
 * Device @fd's p2pgem_attachments, read whole into @buf. A buffer object
 * whose reservation lock someone holds at that moment (the copy engine's
 * cleanup letting go of an import, a move) is listed as "ID busy", without
 * its attachments: read again until no line says so, for 10 s at most.
 */
static int read_attachments(int fd, char *buf, size_t len)
{
	char path[128];
	struct stat st;
	ssize_t n;
	int f;

	if (fstat(fd, &st))
		return -1;
	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/dri/%u/p2pgem_attachments",
		 minor(st.st_rdev));
	for (int i = 0; i < 1000; i++) {
		f = open(path, O_RDONLY | O_CLOEXEC);
		if (f < 0)
			return -1;
		n = read(f, buf, len - 1);
		close(f);
		if (n <= 0)
			return -1;
		buf[n] = '\0';
		if (!strstr(buf, " busy\n"))
			return 0;
		usleep(10000);
	}
	return -1;
}

static int attachment_line(int fd, const char *importer, char *line,
			   size_t len)
{
	char buf[8192];
	char *p;
	int n;

	if (read_attachments(fd, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, importer);
	if (!p)
		return -1;
	n = strcspn(p, "\n");
	snprintf(line, len, "%.*s", n, p);
	return 0;
}

/*
 * Poll device @fd's p2pgem_attachments until @importer's line says
 * "unmapped" (an import lets go in the copy engine's cleanup work, after
 * its copy's fence signalled): 0, or -1 after 10 s, with @line the last
 * line seen.
 */
static int wait_unmapped(int fd, const char *importer, char *line,
			 size_t len)
{
	for (int i = 0; i < 200; i++) {
		if (attachment_line(fd, importer, line, len))
			return -1;
		if (strstr(line, " unmapped "))
			return 0;
		usleep(50000);
	}
	return -1;
}

/*
 * Device 0 imports a buffer of device 1 and copies into and out of it:
 * device-to-device through the import's dynamic P2P attachment; an
 * eviction on device 1 drops the mapping, the next copy maps again.
 * Without move_notify the mapping pins device 1's buffer instead, and only
 * while copies use it: once a copy is done the import lets go; held behind
 * a userspace fence, a copy keeps the buffer pinned (debugfs, pinned_vram,
 * the eviction refused) until it ran.
 */
static int copy_peer(void)
{
	const uint64_t size = 1 * MiB;
	struct drm_p2pgem_device_info di;
	uint32_t h0, h0b, h1, imp;
	char pci0[64], line[256], want[192];
	int fd0, fd1, dmabuf, p2p = topo_p2p_kind() != K_SYSTEM;
	const char *decision = p2p ? "p2p" : topo_no_p2p_reason();
	int pinned = pins_on_map();
	uint8_t *a, *x, *d;

	fd0 = p2p_open(0);
	fd1 = p2p_open(1);
	SKIP_UNLESS(fd0 >= 0 && fd1 >= 0, "needs two p2pgem devices");
	CHECK(!render_pci(fd0, pci0, sizeof(pci0)), "PCI function of device 0");
	CHECK_RET(p2p_create(fd0, size, P2PGEM_PLACEMENT_VRAM, 0, &h0), 0);
	CHECK_RET(p2p_create(fd0, size, P2PGEM_PLACEMENT_VRAM, 0, &h0b), 0);
	CHECK_RET(p2p_create(fd1, size, P2PGEM_PLACEMENT_VRAM, 0, &h1), 0);
	a = p2p_map(fd0, h0, size);
	d = p2p_map(fd0, h0b, size);
	x = p2p_map(fd1, h1, size);
	CHECK(a && d && x, "mmap");
	fill_pattern(a, size, 41);
	memset(x, 0, size);
	CHECK(!drmPrimeHandleToFD(fd1, h1, DRM_CLOEXEC | DRM_RDWR, &dmabuf),
	      "export from device 1");
	CHECK(!drmPrimeFDToHandle(fd0, dmabuf, &imp), "import into device 0: %s",
	      strerror(errno));

	/* Import handles are for WAIT and COPY only. */
	{
		struct drm_p2pgem_gem_info info;

		CHECK_RET(p2p_info(fd0, imp, &info), -EOPNOTSUPP);
		CHECK_RET(p2p_evict(fd0, imp), -EOPNOTSUPP);
	}

	CHECK_RET(copy_wait(fd0, h0, 0, imp, 0, size), 0);
	/* Before the CPU looks: without P2P its fault moves the buffer. */
	CHECK(!attachment_line(fd1, pci0, line, sizeof(line)),
	      "device 1 lists no attachment of %s", pci0);
	printf("# device 1 attachment: %s\n", line);
	if (pinned) {
		/* Done: the import let go, and with it the pin. */
		CHECK(!wait_unmapped(fd1, pci0, line, sizeof(line)),
		      "still mapped after the copy: %s", line);
		snprintf(want, sizeof(want), "%s dynamic peer2peer %s unmapped 0 0 - -",
			 pci0, decision);
		CHECK_RET(p2p_dev_info(fd1, &di), 0);
		CHECK(!di.pinned_vram, "device 1 pinned_vram %llu after the copy",
		      (unsigned long long)di.pinned_vram);
	} else {
		snprintf(want, sizeof(want), "%s dynamic peer2peer %s %s", pci0,
			 decision, p2p ? "p2p" : "system");
	}
	CHECK(!strncmp(line, want, strlen(want)), "want '%s', got '%s'", want,
	      line);
	CHECK(!memcmp(x, a, size), "device 0 -> device 1: other bytes");

	/* Device 1 moves its buffer: the import's mapping goes. */
	CHECK_RET(p2p_evict(fd1, h1), 0);
	CHECK(!attachment_line(fd1, pci0, line, sizeof(line)), "attachment");
	snprintf(want, sizeof(want), "%s dynamic peer2peer %s unmapped", pci0,
		 decision);
	if (p2p || pinned)
		CHECK(!strncmp(line, want, strlen(want)),
		      "after eviction want '%s', got '%s'", want, line);
	/* The next copy maps again, after the move. */
	CHECK_RET(copy_wait(fd0, imp, 0, h0b, 0, size), 0);
	CHECK(!memcmp(d, a, size), "device 1 -> device 0 after the move: other bytes");
	if (pinned) {
		CHECK(!wait_unmapped(fd1, pci0, line, sizeof(line)),
		      "still mapped after the copy back: %s", line);
	} else {
		CHECK(!attachment_line(fd1, pci0, line, sizeof(line)),
		      "attachment");
		CHECK(!strstr(line, "unmapped"), "not mapped again: %s", line);
	}

	/* A copy held back by a userspace fence keeps the buffer pinned. */
	if (pinned) {
		struct sw_sync_create_fence_data fence = { .value = 1,
							   .name = "p2pbuf-test" };
		struct dma_buf_import_sync_file isf = {
			.flags = DMA_BUF_SYNC_WRITE };
		int timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
		uint32_t one = 1;

		SKIP_UNLESS(timeline >= 0, "no sw_sync: the held copy is not checked");
		CHECK(!ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &fence),
		      "SW_SYNC_IOC_CREATE_FENCE: %s", strerror(errno));
		isf.fd = fence.fence;
		CHECK(!ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &isf),
		      "IMPORT_SYNC_FILE: %s", strerror(errno));
		close(fence.fence);
		fill_pattern(a, size, 42);
		CHECK_RET(p2p_copy(fd0, h0, 0, imp, 0, size), 0);
		CHECK(!attachment_line(fd1, pci0, line, sizeof(line)),
		      "attachment");
		printf("# device 1 attachment, copy held: %s\n", line);
		snprintf(want, sizeof(want),
			 "%s dynamic peer2peer %s %s 1 1 %s mapped-without-move-notify",
			 pci0, decision, p2p ? "p2p" : "system",
			 p2p ? "vram" : "system");
		CHECK(!strncmp(line, want, strlen(want)),
		      "copy held: want '%s', got '%s'", want, line);
		CHECK_RET(p2p_dev_info(fd1, &di), 0);
		CHECK(di.pinned_vram == (p2p ? size : 0),
		      "copy held: device 1 pinned_vram %llu",
		      (unsigned long long)di.pinned_vram);
		CHECK_RET(p2p_evict(fd1, h1), -EBUSY);
		CHECK(!ioctl(timeline, SW_SYNC_IOC_INC, &one), "SW_SYNC_IOC_INC");
		CHECK_RET(p2p_wait(fd0, imp, 20000000000ll), 0);
		CHECK(!wait_unmapped(fd1, pci0, line, sizeof(line)),
		      "still mapped after the held copy: %s", line);
		CHECK_RET(p2p_dev_info(fd1, &di), 0);
		CHECK(!di.pinned_vram, "device 1 pinned_vram %llu at the end",
		      (unsigned long long)di.pinned_vram);
		CHECK(check_pattern(x, size, 42) == -1,
		      "the held copy did not land");
		CHECK_RET(p2p_evict(fd1, h1), 0);
		close(timeline);
	}

	CHECK_RET(p2p_close_bo(fd0, imp), 0);
	munmap(a, size);
	munmap(d, size);
	munmap(x, size);
	close(dmabuf);
	close(fd1);
	close(fd0);
	return 0;
}

/*
 * Import another exporter's @dmabuf (whose memory the CPU sees at @m) into
 * device 0 and copy VRAM into it and back, checking both ways. The VRAM
 * source stays in *@a (mapped), the import's handle in *@imp.
 */
static int copy_round_trip(int fd, int dmabuf, uint8_t *m, uint64_t size,
			   const char *what, uint8_t **a, uint32_t *h,
			   uint32_t *imp)
{
	uint32_t back;
	uint8_t *c;

	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, h), 0);
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &back), 0);
	*a = p2p_map(fd, *h, size);
	c = p2p_map(fd, back, size);
	CHECK(*a && c, "mmap");
	fill_pattern(*a, size, 51);
	CHECK(!drmPrimeFDToHandle(fd, dmabuf, imp), "import the %s buffer: %s",
	      what, strerror(errno));
	CHECK_RET(copy_wait(fd, *h, 0, *imp, 0, size), 0);
	CHECK(!memcmp(m, *a, size), "VRAM -> %s: other bytes", what);
	memset(m + 4096, 0x5a, 4096);
	CHECK_RET(copy_wait(fd, *imp, 0, back, 0, size), 0);
	CHECK(!memcmp(c, m, size), "%s -> VRAM: other bytes", what);
	munmap(c, size);
	return 0;
}

/* vgem (shmem pages of another exporter) in and out of VRAM. */
static int copy_vgem(void)
{
	const uint64_t size = 256 * KiB;
	int fd, vfd, dmabuf, ret;
	uint32_t h, vh, imp;
	uint8_t *a;
	void *m;

	fd = p2p_open(0);
	SKIP_UNLESS(fd >= 0, "no p2pgem device");
	vfd = vgem_open();
	SKIP_UNLESS(vfd >= 0, "no vgem device");
	CHECK_RET(vgem_create(vfd, size, &vh, &m), 0);
	CHECK(!drmPrimeHandleToFD(vfd, vh, DRM_CLOEXEC | DRM_RDWR, &dmabuf),
	      "export from vgem");
	ret = copy_round_trip(fd, dmabuf, m, size, "vgem", &a, &h, &imp);
	if (ret)
		return ret;
	CHECK_RET(p2p_close_bo(fd, imp), 0);
	munmap(a, size);
	munmap(m, size);
	close(dmabuf);
	close(vfd);
	close(fd);
	return 0;
}

/* udmabuf (memfd pages of another exporter, no vmap) in and out of VRAM. */
static int copy_udmabuf(void)
{
	const uint64_t size = 256 * KiB;
	int fd, memfd, ub, ret;
	uint32_t h, imp;
	uint8_t *a, *m;

	fd = p2p_open(0);
	SKIP_UNLESS(fd >= 0, "no p2pgem device");
	ub = udmabuf_new(size, &memfd);
	SKIP_UNLESS(ub >= 0, "no udmabuf: %s", strerror(-ub));
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(m != MAP_FAILED, "mmap memfd");
	ret = copy_round_trip(fd, ub, m, size, "udmabuf", &a, &h, &imp);
	if (ret)
		return ret;
	/* Close the import with a copy in flight: the job holds it. */
	CHECK_RET(p2p_copy(fd, h, 0, imp, 0, size), 0);
	CHECK_RET(p2p_close_bo(fd, imp), 0);
	CHECK_RET(p2p_wait(fd, h, 20000000000ll), 0);
	CHECK(!memcmp(m, a, size), "copy after closing the import: other bytes");
	munmap(a, size);
	munmap(m, size);
	close(ub);
	close(memfd);
	close(fd);
	return 0;
}

/* ---- MAP_BENCH: the benchmarks' map cycles, and its bad input ---- */

static int map_bench_call(int ti, int fd, uint32_t iterations,
			  const char *dev, struct p2pbuf_ti_map_bench *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->fd = fd;
	mb->iterations = iterations;
	snprintf(mb->device, sizeof(mb->device), "%s", dev);
	return ioctl(ti, P2PBUF_TI_IOCTL_MAP_BENCH, mb) ? -errno : 0;
}

static int map_bench(void)
{
	struct p2pbuf_ti_map_bench mb;
	char edu[EDU_NAME_LEN];
	int ti, ubuf, memfd, ret;
	struct bo b;

	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	ti = ti_open();
	CHECK(ti >= 0, "open the test importer");
	CHECK_RET(map_bench_call(ti, b.dmabuf, 3, edu, &mb), 0);
	CHECK(mb.nents >= 1 && mb.ns >= mb.min_ns && mb.min_ns > 0,
	      "p2pgem: nents %u ns %llu min %llu", mb.nents,
	      (unsigned long long)mb.ns, (unsigned long long)mb.min_ns);
	CHECK(!!(mb.map_flags & P2PBUF_TI_BUS_ADDRESS) ==
	      (topo_p2p_kind() == K_BUS),
	      "p2pgem: map_flags 0x%x on this topology", mb.map_flags);
	/*
	 * A system-memory exporter maps without bus addresses: udmabuf, or
	 * vgem on kernels built without udmabuf (Debian's).
	 */
	ubuf = udmabuf_new(64 * KiB, &memfd);
	if (ubuf < 0) {
		uint32_t vh;
		void *m;

		printf("# no udmabuf (%s): vgem instead\n", strerror(-ubuf));
		memfd = vgem_open();
		CHECK(memfd >= 0, "neither udmabuf nor vgem");
		CHECK_RET(vgem_create(memfd, 64 * KiB, &vh, &m), 0);
		munmap(m, 64 * KiB);
		CHECK(!drmPrimeHandleToFD(memfd, vh, DRM_CLOEXEC, &ubuf),
		      "export from vgem");
	}
	CHECK_RET(map_bench_call(ti, ubuf, 2, edu, &mb), 0);
	CHECK(mb.nents >= 1 && !mb.map_flags,
	      "system memory: nents %u flags 0x%x", mb.nents, mb.map_flags);
	close(ubuf);
	close(memfd);

	CHECK_RET(map_bench_call(ti, b.dmabuf, 0, edu, &mb), -EINVAL);
	CHECK_RET(map_bench_call(ti, b.dmabuf,
				 P2PBUF_TI_BENCH_MAX_ITERATIONS + 1, edu, &mb),
		  -EINVAL);
	CHECK_RET(map_bench_call(ti, -1, 1, edu, &mb), -EBADF);
	CHECK_RET(map_bench_call(ti, b.fd, 1, edu, &mb), -EINVAL);
	CHECK_RET(map_bench_call(ti, b.dmabuf, 1, "0000:ff:1f.7", &mb),
		  -ENODEV);
	memset(&mb, 0, sizeof(mb));
	mb.fd = b.dmabuf;
	mb.iterations = 1;
	memset(mb.device, 'a', sizeof(mb.device));
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP_BENCH, &mb) && errno == EINVAL,
	      "MAP_BENCH with an unterminated device name");
	map_bench_call(ti, b.dmabuf, 1, edu, &mb);
	mb.flags = 1;
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP_BENCH, &mb) && errno == EINVAL,
	      "MAP_BENCH with flags");
	mb.flags = 0;
	mb.pad = 1;
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP_BENCH, &mb) && errno == EINVAL,
	      "MAP_BENCH with pad");
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP_BENCH, (void *)8) &&
	      errno == EFAULT, "MAP_BENCH with a bad pointer");
	close(ti);
	bo_free(&b);
	return 0;
}

/* ---- bad input to the test importer ---- */

static int bad_input(void)
{
	struct p2pbuf_ti_attach at;
	struct p2pbuf_ti_map map;
	uint8_t data[16];
	char edu[EDU_NAME_LEN];
	struct bo b;
	int ti, null, ret;

	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	ti = ti_open();
	CHECK(ti >= 0, "open");
	null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Not attached yet. */
	memset(&map, 0, sizeof(map));
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map) && errno == ENOENT,
	      "map before attach: %s", strerror(errno));
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_DETACH) && errno == ENOENT,
	      "detach before attach: %s", strerror(errno));
	{
		struct p2pbuf_ti_status st;

		CHECK(ioctl(ti, P2PBUF_TI_IOCTL_STATUS, &st) && errno == ENOENT,
		      "status before attach: %s", strerror(errno));
	}
	CHECK_RET(ti_dma(ti, 0, data, 16, P2PBUF_TI_DMA_TO_BUFFER), -ENOENT);
	CHECK(ioctl(ti, _IO('p', 0x7f)) && errno == ENOTTY, "unknown ioctl");

	CHECK_RET(ti_attach(ti, b.dmabuf, 3, 0, edu), -EINVAL);
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC, 2, edu), -EINVAL);
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_STATIC,
			    P2PBUF_TI_ATTACH_PIN, edu), -EINVAL);
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC, 0, "0000:ff:1f.7"),
		  -ENODEV);
	CHECK_RET(ti_attach(ti, -1, P2PBUF_TI_DYNAMIC, 0, edu), -EBADF);
	CHECK_RET(ti_attach(ti, null, P2PBUF_TI_DYNAMIC, 0, edu), -EINVAL);
	memset(&at, 0, sizeof(at));
	at.fd = b.dmabuf;
	at.pad = 1;
	snprintf(at.device, sizeof(at.device), "%s", edu);
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_ATTACH, &at) && errno == EINVAL,
	      "attach with pad");
	at.pad = 0;
	memset(at.device, 'x', sizeof(at.device));
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_ATTACH, &at) && errno == EINVAL,
	      "attach with an unterminated device name");

	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), 0);
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0, edu), -EBUSY);
	memset(&map, 0, sizeof(map));
	map.flags = 1;
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map) && errno == EINVAL, "map flags");
	map.flags = 0;
	map.pad = 1;
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map) && errno == EINVAL, "map pad");
	map.pad = 0;
	map.max_entries = 4;
	map.entries = 8;	/* unmapped address */
	CHECK(ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map) && errno == EFAULT,
	      "map to a bad pointer: %s", strerror(errno));

	CHECK_RET(ti_dma(ti, 0, data, 16, 0), -EINVAL);
	CHECK_RET(ti_dma(ti, 0, data, 16, P2PBUF_TI_DMA_TO_BUFFER |
			 P2PBUF_TI_DMA_FROM_BUFFER), -EINVAL);
	CHECK_RET(ti_dma(ti, 0, data, 16, 4), -EINVAL);
	CHECK_RET(ti_dma(ti, 0, data, 0, P2PBUF_TI_DMA_TO_BUFFER), -EINVAL);
	CHECK_RET(ti_dma(ti, 0, data, P2PBUF_TI_DMA_MAX + 1,
			 P2PBUF_TI_DMA_TO_BUFFER), -EINVAL);
	CHECK_RET(ti_dma(ti, b.size - 8, data, 16, P2PBUF_TI_DMA_TO_BUFFER),
		  -EINVAL);
	CHECK_RET(ti_dma(ti, UINT64_MAX - 4, data, 16, P2PBUF_TI_DMA_TO_BUFFER),
		  -EINVAL);
	CHECK_RET(ti_dma(ti, 0, (void *)8, 16, P2PBUF_TI_DMA_TO_BUFFER), -EFAULT);
	CHECK(!ioctl(ti, P2PBUF_TI_IOCTL_DETACH), "detach");

	/* Only the edu device can DMA. */
	{
		int fd1 = p2p_open(1);
		char pci[64];

		if (fd1 >= 0 && !render_pci(fd1, pci, sizeof(pci))) {
			CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
					    0, pci), 0);
			CHECK_RET(ti_dma(ti, 0, data, 16,
					 P2PBUF_TI_DMA_TO_BUFFER), -EOPNOTSUPP);
			CHECK(!ioctl(ti, P2PBUF_TI_IOCTL_DETACH), "detach");
		}
		if (fd1 >= 0)
			close(fd1);
	}
	close(null);
	close(ti);
	bo_free(&b);
	return 0;
}

static const struct subtest tests[] = {
	{ "matrix-vram-static", matrix_vram_static },
	{ "matrix-vram-dynamic", matrix_vram_dynamic },
	{ "matrix-vram-dynamic-p2p", matrix_vram_dynamic_p2p },
	{ "matrix-system-static", matrix_system_static },
	{ "matrix-system-dynamic", matrix_system_dynamic },
	{ "matrix-system-dynamic-p2p", matrix_system_dynamic_p2p },
	{ "matrix-preferred-static", matrix_preferred_static },
	{ "matrix-preferred-dynamic", matrix_preferred_dynamic },
	{ "matrix-preferred-dynamic-p2p", matrix_preferred_dynamic_p2p },
	{ "peer-vram", peer_vram },
	{ "peer-nvme", peer_nvme },
	{ "edu-dma-vram-p2p", edu_dma_vram_p2p },
	{ "edu-dma-vram-static", edu_dma_vram_static },
	{ "edu-dma-system", edu_dma_system },
	{ "evict-race", evict_race },
	{ "evict-race-process", evict_race_process },
	{ "evict-handle-closed", evict_handle_closed },
	{ "pin-quota", pin_quota },
	{ "pin-mixed", pin_mixed },
	{ "pin-on-map", pin_on_map },
	{ "map-refused", map_refused },
	{ "sync-file", sync_file },
	{ "sync-file-import", sync_file_import },
	{ "vmap", vmap },
	{ "debugfs-attachments", debugfs_attachments },
	{ "query", query },
	{ "copy-local", copy_local },
	{ "copy-peer", copy_peer },
	{ "copy-vgem", copy_vgem },
	{ "copy-udmabuf", copy_udmabuf },
	{ "bad-input", bad_input },
	{ "map-bench", map_bench },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
