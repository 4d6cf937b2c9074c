// SPDX-License-Identifier: MIT
/*
 * p2pgem_defects: the defects of issue 10, each as a subtest that failed
 * before its fix.
 *
 * - zap-only-moved: moving one exported buffer object zaps its CPU
 *   mappings (of the DRM file and of the dma-buf) and no other buffer
 *   object's: no refaults elsewhere (getrusage's ru_minflt), and the moved
 *   one's dma-buf mapping sees its data afterwards;
 * - vmap-quota: a vmap that outlives the P2P pin it rode on gives the pin
 *   quota back when it goes, and later pins for other importers work;
 * - vmap-unplugged: a vmap after the device was unbound fails with
 *   ENODEV, and a vmap held across the unbind can still be dropped (run by
 *   tests/guest/p2pgem-vmap-unplug.sh, which binds the device again);
 * - odd-import: importing a dma-buf whose size is not a multiple of the
 *   page size gives EINVAL and leaves nothing attached;
 * - p2p-bus-import: an import of another device's P2P memory mapped by
 *   PCI bus address cannot be copied by the CPU engine (EOPNOTSUPP);
 * - many-importers-vram, many-importers-system: two, then ten importers
 *   of one buffer for one PCI function, each mapping it: no DMA-API debug
 *   error (error_count), and the device's DMA seen through all of them;
 * - window-no-evict: with a 16 MiB CPU-visible window full, touching (and
 *   mapping P2P) a buffer object larger than the window evicts nothing
 *   from the window (run by tests/guest/p2pgem-window-evict.sh with
 *   p2pgem reloaded as visible_mb=16).
 *
 * The test-only module tests/oddexp/p2pbuf_oddexp.ko exports odd and P2P
 * dma-bufs and holds vmaps; tests/importer/p2pbuf_test_importer.ko
 * attaches and maps for PCI functions.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pbuf_ti_lib.h"
#include "../oddexp/p2pbuf_oddexp.h"

static int oe_open(void)
{
	return open("/dev/p2pbuf_oddexp", O_RDWR | O_CLOEXEC);
}

/* A dma-buf of @size bytes from the odd exporter: its fd, or -errno. */
static int oe_export(int oe, uint64_t size, uint32_t flags,
		     const char *provider)
{
	struct p2pbuf_oddexp_export e = { .size = size, .flags = flags };

	if (provider && strlen(provider) >= sizeof(e.provider))
		return -ENAMETOOLONG;
	if (provider)
		memcpy(e.provider, provider, strlen(provider) + 1);
	return ioctl(oe, P2PBUF_ODDEXP_IOCTL_EXPORT, &e) ? -errno : e.fd;
}

/* Hold a vmap of @dmabuf, copying its first @len bytes to @data. */
static int oe_vmap(int oe, int dmabuf, void *data, uint32_t len,
		   uint32_t *id)
{
	struct p2pbuf_oddexp_vmap v = { .fd = dmabuf, .length = len,
					.data = (uintptr_t)data };

	if (ioctl(oe, P2PBUF_ODDEXP_IOCTL_VMAP, &v))
		return -errno;
	*id = v.id;
	return 0;
}

static int oe_vunmap(int oe, uint32_t id)
{
	return ioctl(oe, P2PBUF_ODDEXP_IOCTL_VUNMAP, (unsigned long)id) ?
		-errno : 0;
}

static int oe_vmap_probe(int oe, int dmabuf)
{
	struct p2pbuf_oddexp_vmap v = { .fd = dmabuf };

	return ioctl(oe, P2PBUF_ODDEXP_IOCTL_VMAP_PROBE, &v) ? -errno : 0;
}

static int oe_status(int oe, struct p2pbuf_oddexp_status *st)
{
	return ioctl(oe, P2PBUF_ODDEXP_IOCTL_STATUS, st) ? -errno : 0;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Read every page; returns a sum so that the reads happen. */
static uint64_t touch(const volatile uint8_t *p, size_t size)
{
	uint64_t sum = 0;

	for (size_t off = 0; off < size; off += 4096)
		sum += p[off];
	return sum;
}

/* ---- defect 2: a move zaps only the moved buffer object's mappings ---- */

static int zap_only_moved(void)
{
	const size_t size = 2 * MiB;
	struct drm_p2pgem_gem_info info;
	uint8_t *a_dmabuf, *b_dmabuf;
	volatile uint64_t sink = 0;
	struct bo a, b;
	long before, faults;
	int ret;

	ret = bo_new(&a, size, P2PGEM_PLACEMENT_VRAM, 0);
	if (ret)
		return ret;
	CHECK_RET(bo_new(&b, size, P2PGEM_PLACEMENT_VRAM, 0), 0);
	a_dmabuf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			a.dmabuf, 0);
	b_dmabuf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			b.dmabuf, 0);
	CHECK(a_dmabuf != MAP_FAILED && b_dmabuf != MAP_FAILED,
	      "mmap of the dma-bufs: %s", strerror(errno));

	/* Every page of all four mappings mapped, both buffers in VRAM. */
	fill_pattern(a.cpu, size, 1);
	fill_pattern(b.cpu, size, 2);
	CHECK(check_pattern(a_dmabuf, size, 1) == -1, "A's dma-buf mapping");
	CHECK(check_pattern(b_dmabuf, size, 2) == -1, "B's dma-buf mapping");
	CHECK(bo_placement(&a) == P2PGEM_PLACEMENT_VRAM &&
	      bo_placement(&b) == P2PGEM_PLACEMENT_VRAM, "not in VRAM");
	before = minflt();
	sink += touch(b.cpu, size) + touch(b_dmabuf, size);
	faults = minflt() - before;
	CHECK(faults < 8, "%ld faults touching mapped pages", faults);

	/* Move A only: B's mappings stay. */
	CHECK_RET(p2p_evict(a.fd, a.handle), 0);
	CHECK_RET(p2p_info(a.fd, a.handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM, "A not evicted");
	before = minflt();
	sink += touch(b.cpu, size) + touch(b_dmabuf, size);
	faults = minflt() - before;
	printf("# %ld faults touching B's %zu pages twice after A moved\n",
	       faults, size / 4096);
	CHECK(faults < 8, "moving A made B refault: %ld faults", faults);
	CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_VRAM, "B moved");

	/* A's dma-buf mapping was zapped: it writes A's memory now. */
	fill_pattern(a_dmabuf, size, 3);
	CHECK(check_pattern(a.cpu, size, 3) == -1,
	      "A's DRM mapping misses what A's dma-buf mapping wrote");
	CHECK(check_pattern(a_dmabuf, size, 3) == -1,
	      "A's dma-buf mapping reads other bytes");
	CHECK(check_pattern(b_dmabuf, size, 2) == -1, "B changed");
	munmap(a_dmabuf, size);
	munmap(b_dmabuf, size);
	bo_free(&a);
	bo_free(&b);
	return 0;
}

/* ---- defect 1: a vmap's pin goes through the quota helper ---- */

static int vmap_quota(void)
{
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	int p2p = topo_p2p_kind() != K_SYSTEM;
	char edu[EDU_NAME_LEN];
	uint8_t head[64];
	int ti, ti2, ti3, oe, ret;
	uint32_t id = 0;
	struct bo b;

	oe = oe_open();
	SKIP_UNLESS(oe >= 0, "p2pbuf_oddexp.ko is not loaded");
	ret = edu_bo_new(&b, 1 * MiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	fill_pattern(b.cpu, b.size, 11);
	CHECK_RET(p2p_dev_info(b.fd, &di), 0);
	CHECK(di.pinned_vram == 0, "pinned_vram %llu before",
	      (unsigned long long)di.pinned_vram);

	/* A P2P importer pins in VRAM; a vmap rides on that pin. */
	ti = ti_open();
	CHECK(ti >= 0, "open importer");
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    P2PBUF_TI_ATTACH_PIN, edu), 0);
	CHECK_RET(p2p_dev_info(b.fd, &di), 0);
	CHECK(di.pinned_vram == (p2p ? b.size : 0), "pinned_vram %llu",
	      (unsigned long long)di.pinned_vram);
	CHECK_RET(oe_vmap(oe, b.dmabuf, head, sizeof(head), &id), 0);
	CHECK(check_pattern(head, sizeof(head), 11) == -1,
	      "the vmap reads other bytes");
	CHECK_RET(p2p_info(b.fd, b.handle, &info), 0);
	CHECK(info.pin_count == 2, "pin_count %u", info.pin_count);

	/* The importer goes first, the vmap last: its unpin is the last. */
	close(ti);
	CHECK_RET(p2p_info(b.fd, b.handle, &info), 0);
	CHECK(info.pin_count == 1, "pin_count %u after detach", info.pin_count);
	CHECK_RET(oe_vunmap(oe, id), 0);
	CHECK_RET(p2p_info(b.fd, b.handle, &info), 0);
	CHECK(info.pin_count == 0, "pin_count %u after vunmap", info.pin_count);
	CHECK_RET(p2p_dev_info(b.fd, &di), 0);
	CHECK(di.pinned_vram == 0,
	      "pinned_vram %llu after the last pin went (a vmap's)",
	      (unsigned long long)di.pinned_vram);

	/* Pins for importers that are not P2P: system memory, both. */
	ti2 = ti_open();
	ti3 = ti_open();
	CHECK_RET(ti_attach(ti2, b.dmabuf, P2PBUF_TI_STATIC, 0, edu), 0);
	CHECK_RET(ti_attach(ti3, b.dmabuf, P2PBUF_TI_STATIC, 0, edu), 0);
	CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_SYSTEM,
	      "pinned for static importers in placement %d", bo_placement(&b));
	close(ti2);
	close(ti3);
	CHECK_RET(p2p_dev_info(b.fd, &di), 0);
	CHECK(di.pinned_vram == 0, "pinned_vram %llu at the end",
	      (unsigned long long)di.pinned_vram);
	CHECK(check_pattern(b.cpu, b.size, 11) == -1, "contents changed");
	close(oe);
	bo_free(&b);
	return 0;
}

/* Unbinds the second p2pgem device: its guest script binds it again. */
static int vmap_unplugged(void)
{
	struct drm_p2pgem_gem_info info;
	char edu[EDU_NAME_LEN], pci[64];
	int fd, ti, oe, dmabuf;
	uint8_t head[64];
	uint32_t h, id = 0;
	void *cpu;

	SKIP_UNLESS(!edu_name(edu, sizeof(edu)), "no edu device");
	oe = oe_open();
	SKIP_UNLESS(oe >= 0, "p2pbuf_oddexp.ko is not loaded");
	fd = p2p_open(1);
	SKIP_UNLESS(fd >= 0, "no second p2pgem device");
	CHECK(!render_pci(fd, pci, sizeof(pci)), "PCI function of device 1");
	CHECK_RET(p2p_create(fd, 1 * MiB, P2PGEM_PLACEMENT_VRAM, 0, &h), 0);
	cpu = p2p_map(fd, h, 1 * MiB);
	CHECK(cpu, "mmap");
	fill_pattern(cpu, 1 * MiB, 12);
	munmap(cpu, 1 * MiB);
	CHECK(!drmPrimeHandleToFD(fd, h, DRM_CLOEXEC | DRM_RDWR, &dmabuf),
	      "export");
	/* Pinned (in VRAM where P2P works), and a vmap held across. */
	ti = ti_open();
	CHECK_RET(ti_attach(ti, dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    P2PBUF_TI_ATTACH_PIN, edu), 0);
	CHECK_RET(p2p_info(fd, h, &info), 0);
	printf("# pinned in placement %u\n", info.placement);
	CHECK_RET(oe_vmap(oe, dmabuf, head, sizeof(head), &id), 0);
	CHECK(check_pattern(head, sizeof(head), 12) == -1, "vmap reads");
	CHECK_RET(oe_vmap_probe(oe, dmabuf), 0);

	printf("# unbind %s\n", pci);
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/unbind", pci), 0);
	CHECK_RET(oe_vmap_probe(oe, dmabuf), -ENODEV);
	CHECK_RET(oe_vunmap(oe, id), 0);
	CHECK_RET(oe_vmap_probe(oe, dmabuf), -ENODEV);
	close(ti);
	close(oe);
	close(dmabuf);
	close(fd);
	return 0;
}

/* ---- defect 4: dma-bufs that are not a whole number of pages ---- */

static int odd_import(void)
{
	static const uint64_t sizes[] = { 4097, 100, 8191 };
	struct p2pbuf_oddexp_status st0, st;
	int fd, oe, buf;
	uint32_t h;

	oe = oe_open();
	SKIP_UNLESS(oe >= 0, "p2pbuf_oddexp.ko is not loaded");
	fd = p2p_open(0);
	SKIP_UNLESS(fd >= 0, "no p2pgem device");
	CHECK_RET(oe_status(oe, &st0), 0);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		buf = oe_export(oe, sizes[i], 0, NULL);
		CHECK(buf >= 0, "export %" PRIu64 " bytes: %s", sizes[i],
		      strerror(-buf));
		CHECK(drmPrimeFDToHandle(fd, buf, &h) && errno == EINVAL,
		      "import of %" PRIu64 " bytes: %s", sizes[i],
		      strerror(errno));
		CHECK_RET(oe_status(oe, &st), 0);
		CHECK(st.attachments == st0.attachments &&
		      st.mappings == st0.mappings,
		      "%" PRIu64 " bytes: %u attachments, %u mappings left",
		      sizes[i], st.attachments, st.mappings);
		close(buf);
	}
	/* A whole number of pages from the same exporter imports. */
	buf = oe_export(oe, 8192, 0, NULL);
	CHECK(buf >= 0, "export 8192 bytes");
	CHECK(!drmPrimeFDToHandle(fd, buf, &h), "import of 8192 bytes: %s",
	      strerror(errno));
	CHECK_RET(oe_status(oe, &st), 0);
	CHECK(st.attachments == st0.attachments + 1, "%u attachments",
	      st.attachments);
	CHECK_RET(p2p_close_bo(fd, h), 0);
	close(buf);
	CHECK_RET(oe_status(oe, &st), 0);
	CHECK(st.buffers == st0.buffers && st.attachments == st0.attachments &&
	      st.mappings == st0.mappings,
	      "left behind: %u buffers, %u attachments, %u mappings",
	      st.buffers - st0.buffers, st.attachments - st0.attachments,
	      st.mappings - st0.mappings);
	close(fd);
	close(oe);
	return 0;
}

/* ---- defect 5: an import mapped by PCI bus address ---- */

static int p2p_bus_import(void)
{
	static struct mapping m;
	uint32_t h, imp, bus = 0;
	char nvme[64], pci0[64];
	int fd, oe, buf, ti;
	struct bo fake;

	SKIP_UNLESS(topo_p2p_kind() == K_BUS, "no bus addresses on this topology");
	SKIP_UNLESS(!pci_find("0x1b36", "0x0010", 0, nvme, sizeof(nvme)),
		    "no NVMe controller");
	oe = oe_open();
	SKIP_UNLESS(oe >= 0, "p2pbuf_oddexp.ko is not loaded");
	fd = p2p_open(0);
	SKIP_UNLESS(fd >= 0, "no p2pgem device");
	CHECK(!render_pci(fd, pci0, sizeof(pci0)), "PCI function of device 0");
	buf = oe_export(oe, 64 * KiB, P2PBUF_ODDEXP_P2P, nvme);
	SKIP_UNLESS(buf >= 0, "no P2P memory of %s: %s", nvme, strerror(-buf));

	/* What p2pgem's function gets for that memory: bus addresses. */
	ti = ti_open();
	CHECK_RET(ti_attach(ti, buf, P2PBUF_TI_DYNAMIC_P2P, 0, pci0), 0);
	memset(&fake, 0, sizeof(fake));
	CHECK_RET(ti_map(ti, &m, &fake), 0);
	for (unsigned int i = 0; i < m.map.nents && i < MAX_ENTRIES; i++)
		bus += !!(m.ent[i].flags & P2PBUF_TI_BUS_ADDRESS);
	printf("# %s memory for %s: %u segments, %u by bus address, first 0x%llx\n",
	       nvme, pci0, m.map.nents, bus,
	       (unsigned long long)m.ent[0].dma_address);
	CHECK(bus && bus == m.map.nents, "not mapped by bus address");
	close(ti);

	/* p2pgem imports it; its CPU copy engine cannot reach it. */
	CHECK(!drmPrimeFDToHandle(fd, buf, &imp), "import: %s",
	      strerror(errno));
	CHECK_RET(p2p_create(fd, 64 * KiB, P2PGEM_PLACEMENT_SYSTEM, 0, &h), 0);
	CHECK_RET(p2p_copy(fd, imp, 0, h, 0, 64 * KiB), -EOPNOTSUPP);
	CHECK_RET(p2p_copy(fd, h, 0, imp, 0, 64 * KiB), -EOPNOTSUPP);
	CHECK_RET(p2p_close_bo(fd, imp), 0);
	close(buf);
	close(fd);
	close(oe);
	return 0;
}

/* ---- defect 6: many importers of one buffer for one PCI function ---- */

static long dma_api_errors(void)
{
	char buf[32] = "";
	int fd = open("/sys/kernel/debug/dma-api/error_count",
		      O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	return strtol(buf, NULL, 10);
}

static int many_importers(uint32_t placement, uint32_t mode, int n)
{
	static struct mapping m0, m;
	uint8_t out[2048], in[2048];
	char edu[EDU_NAME_LEN];
	long errors, after;
	int ti[10], ret;
	struct bo b;

	errors = dma_api_errors();
	SKIP_UNLESS(errors >= 0, "no DMA-API debugging");
	ret = edu_bo_new(&b, 256 * KiB, placement, edu);
	if (ret)
		return ret;
	fill_pattern(b.cpu, b.size, 13);
	for (int i = 0; i < n; i++) {
		ti[i] = ti_open();
		CHECK(ti[i] >= 0, "open importer %d", i);
		CHECK_RET(ti_attach(ti[i], b.dmabuf, mode, 0, edu), 0);
		CHECK_RET(ti_map(ti[i], i ? &m : &m0, &b), 0);
		if (i)
			CHECK(m.map.nents == m0.map.nents &&
			      m.ent[0].dma_address == m0.ent[0].dma_address,
			      "importer %d maps at 0x%llx, importer 0 at 0x%llx",
			      i, (unsigned long long)m.ent[0].dma_address,
			      (unsigned long long)m0.ent[0].dma_address);
	}
	after = dma_api_errors();
	printf("# %d importers, %s: DMA-API errors %ld -> %ld\n", n,
	       kind_names[m0.kind], errors, after);
	CHECK(after == errors, "%ld DMA-API debug errors from %d mappings",
	      after - errors, n);

	/* One device writes through importer 0, reads through the last. */
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + n);
	CHECK_RET(ti_dma(ti[0], 8192, out, sizeof(out),
			 P2PBUF_TI_DMA_TO_BUFFER), 0);
	CHECK_RET(ti_dma(ti[n - 1], 8192, in, sizeof(in),
			 P2PBUF_TI_DMA_FROM_BUFFER), 0);
	CHECK(!memcmp(in, out, sizeof(in)), "importer %d reads other bytes",
	      n - 1);
	CHECK_RET(bo_idle(&b), 0);
	CHECK(!memcmp((uint8_t *)b.cpu + 8192, out, sizeof(out)),
	      "the CPU reads other bytes");
	for (int i = n - 1; i >= 0; i--)
		close(ti[i]);
	after = dma_api_errors();
	CHECK(after == errors, "%ld DMA-API debug errors after unmapping",
	      after - errors);
	bo_free(&b);
	return 0;
}

static int many_importers_vram(void)
{
	int ret = many_importers(P2PGEM_PLACEMENT_VRAM, P2PBUF_TI_DYNAMIC_P2P, 2);

	return ret ? ret : many_importers(P2PGEM_PLACEMENT_VRAM,
					  P2PBUF_TI_DYNAMIC_P2P, 10);
}

static int many_importers_system(void)
{
	int ret = many_importers(P2PGEM_PLACEMENT_SYSTEM, P2PBUF_TI_DYNAMIC, 2);

	if (!ret)
		ret = many_importers(P2PGEM_PLACEMENT_SYSTEM,
				     P2PBUF_TI_DYNAMIC, 10);
	/* Static importers pin; the dma-buf core maps them at attach. */
	return ret ? ret : many_importers(P2PGEM_PLACEMENT_SYSTEM,
					  P2PBUF_TI_STATIC, 10);
}

/* ---- defect 3: nothing is evicted for what can never fit the window ---- */

static int window_no_evict(void)
{
	struct drm_p2pgem_device_info di, di2;
	struct drm_p2pgem_gem_info info;
	const uint64_t chunk = 4 * MiB;
	uint64_t moves[16];
	uint32_t win[16], big;
	char edu[EDU_NAME_LEN];
	static struct mapping m;
	int fd, n = 0, ti;
	volatile uint8_t *p;
	struct bo bb;

	fd = p2p_open(0);
	SKIP_UNLESS(fd >= 0, "no p2pgem device");
	CHECK_RET(p2p_dev_info(fd, &di), 0);
	SKIP_UNLESS(di.visible_size == 16 * MiB && di.vram_size >= 48 * MiB,
		    "needs p2pgem with visible_mb=16 (window %llu MiB)",
		    (unsigned long long)(di.visible_size / MiB));
	CHECK(di.visible_used == 0, "the window is in use already");

	/* Fill the window with buffers that live there. */
	for (uint64_t left = di.visible_size; left; left -= chunk, n++) {
		CHECK_RET(p2p_create(fd, chunk, P2PGEM_PLACEMENT_VRAM,
				     P2PGEM_CREATE_CPU_ACCESS, &win[n]), 0);
		CHECK_RET(p2p_info(fd, win[n], &info), 0);
		CHECK(info.cpu_visible, "window buffer %d not visible", n);
		moves[n] = info.move_count;
	}
	/* Larger than the window, in VRAM above it. */
	CHECK_RET(p2p_create(fd, di.visible_size + 8 * MiB,
			     P2PGEM_PLACEMENT_VRAM, 0, &big), 0);
	CHECK_RET(p2p_info(fd, big, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_VRAM, "big buffer not in VRAM");
	CHECK_RET(p2p_dev_info(fd, &di), 0);
	CHECK(di.visible_used == di.visible_size, "window not full: %llu used",
	      (unsigned long long)di.visible_used);

	/* The CPU touches it: it can only go to system memory. */
	p = p2p_map(fd, big, info.size);
	CHECK(p, "mmap");
	(void)p[4096];
	CHECK_RET(p2p_info(fd, big, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM,
	      "big buffer mapped in placement %u", info.placement);
	CHECK_RET(p2p_dev_info(fd, &di2), 0);
	printf("# evictions %llu -> %llu, window %llu of %llu MiB used\n",
	       (unsigned long long)di.evictions,
	       (unsigned long long)di2.evictions,
	       (unsigned long long)(di2.visible_used / MiB),
	       (unsigned long long)(di2.visible_size / MiB));
	for (int i = 0; i < n; i++) {
		CHECK_RET(p2p_info(fd, win[i], &info), 0);
		CHECK(info.placement == P2PGEM_PLACEMENT_VRAM &&
		      info.cpu_visible && info.move_count == moves[i],
		      "window buffer %d: placement %u, moved %llu times", i,
		      info.placement,
		      (unsigned long long)(info.move_count - moves[i]));
	}
	CHECK(di2.evictions == di.evictions + 1,
	      "%llu evictions for one fault of the big buffer",
	      (unsigned long long)(di2.evictions - di.evictions));
	CHECK(di2.visible_used == di2.visible_size, "window emptied");

	/* A P2P map of a buffer too large for the window: the same. */
	if (topo_p2p_kind() != K_SYSTEM && !edu_name(edu, sizeof(edu))) {
		memset(&bb, 0, sizeof(bb));
		bb.fd = fd;
		CHECK_RET(p2p_create(fd, di.visible_size + 4 * MiB,
				     P2PGEM_PLACEMENT_VRAM, 0, &bb.handle), 0);
		CHECK(!drmPrimeHandleToFD(fd, bb.handle, DRM_CLOEXEC | DRM_RDWR,
					  &bb.dmabuf), "export");
		CHECK_RET(p2p_dev_info(fd, &di), 0);
		ti = ti_open();
		CHECK_RET(ti_attach(ti, bb.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0,
				    edu), 0);
		CHECK_RET(ti_map(ti, &m, &bb), 0);
		CHECK(m.kind == K_SYSTEM, "mapped as %s", kind_names[m.kind]);
		CHECK_RET(p2p_dev_info(fd, &di2), 0);
		CHECK(di2.evictions == di.evictions + 1,
		      "%llu evictions for one P2P map",
		      (unsigned long long)(di2.evictions - di.evictions));
		for (int i = 0; i < n; i++) {
			CHECK_RET(p2p_info(fd, win[i], &info), 0);
			CHECK(info.move_count == moves[i],
			      "window buffer %d moved for a P2P map", i);
		}
		close(ti);
		close(bb.dmabuf);
	}
	close(fd);
	return 0;
}

static const struct subtest tests[] = {
	{ "zap-only-moved", zap_only_moved },
	{ "vmap-quota", vmap_quota },
	{ "vmap-unplugged", vmap_unplugged },
	{ "odd-import", odd_import },
	{ "p2p-bus-import", p2p_bus_import },
	{ "many-importers-vram", many_importers_vram },
	{ "many-importers-system", many_importers_system },
	{ "window-no-evict", window_no_evict },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
