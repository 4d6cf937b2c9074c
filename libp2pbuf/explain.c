// SPDX-License-Identifier: MIT
/*
 * libp2pbuf: explain whether a PCI client would get a P2P mapping of a
 * provider's memory, and why not.
 *
 * Sources, best first: the kernel's own verdict (the p2pbuf_probe debugfs
 * matrix), the kernel configuration (/proc/config.gz, /boot/config-*), the
 * PCI topology in sysfs.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"

#define DEFAULT_SYSFS_PCI "/sys/bus/pci/devices"
#define DEFAULT_PROBE_DIR "/sys/kernel/debug/p2pbuf_probe"

static const char *const map_names[] = {
	[P2PBUF_MAP_UNKNOWN] = "unknown",
	[P2PBUF_MAP_BUS_ADDRESS] = "bus-address",
	[P2PBUF_MAP_HOST_BRIDGE] = "host-bridge",
	[P2PBUF_MAP_IOMMU] = "iommu",
	[P2PBUF_MAP_NONE] = "none",
	[P2PBUF_MAP_ERROR] = "error",
};

static const char *const reason_names[] = {
	[P2PBUF_REASON_NONE] = "-",
	[P2PBUF_REASON_NO_P2PDMA_KERNEL] = "kernel-without-pci-p2pdma",
	[P2PBUF_REASON_NO_MOVE_NOTIFY_KERNEL] = "kernel-without-dmabuf-move-notify",
	[P2PBUF_REASON_NO_SUCH_DEVICE] = "no-such-device",
	[P2PBUF_REASON_NOT_PROVIDER] = "not-a-provider",
	[P2PBUF_REASON_SAME_DEVICE] = "same-device",
	[P2PBUF_REASON_ACS_REDIRECT] = "acs-redirect",
	[P2PBUF_REASON_HOST_BRIDGE_NOT_WHITELISTED] = "host-bridge-not-whitelisted",
	[P2PBUF_REASON_DMA_MAP_REFUSED] = "dma-map-refused",
	[P2PBUF_REASON_CLIENT_DMA_MASK] = "client-dma-mask",
	[P2PBUF_REASON_DMA_MAP_FAILED] = "dma-map-failed",
	[P2PBUF_REASON_NO_KERNEL_VERDICT] = "no-kernel-verdict",
	[P2PBUF_REASON_OTHER] = "other",
	[P2PBUF_REASON_IN_SYSTEM_MEMORY] = "in-system-memory",
	[P2PBUF_REASON_PINNED_IN_SYSTEM_MEMORY] = "pinned-in-system-memory",
	[P2PBUF_REASON_NOT_PCI_DEVICE] = "not-a-pci-device",
	[P2PBUF_REASON_LARGER_THAN_VISIBLE] = "larger-than-visible-window",
	[P2PBUF_REASON_IMPORTER_WITHOUT_P2P] = "importer-without-p2p",
};

static const char *const placement_names[] = {
	[P2PBUF_PLACEMENT_ANY] = "any",
	[P2PBUF_PLACEMENT_VRAM] = "vram",
	[P2PBUF_PLACEMENT_SYSTEM] = "system",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int p2pbuf_map_name(int map, const char **name)
{
	if (!name || map < 0 || (size_t)map >= ARRAY_SIZE(map_names))
		return -EINVAL;
	*name = map_names[map];
	return 0;
}

int p2pbuf_reason_name(int reason, const char **name)
{
	if (!name || reason < 0 || (size_t)reason >= ARRAY_SIZE(reason_names))
		return -EINVAL;
	*name = reason_names[reason];
	return 0;
}

int p2pbuf_placement_name(unsigned int placement, const char **name)
{
	if (!name || placement >= ARRAY_SIZE(placement_names))
		return -EINVAL;
	*name = placement_names[placement];
	return 0;
}

static int find_config(const struct p2pbuf_explain_source *src, char *path,
		       size_t len);

/* An option name as Kconfig has them: letters, digits, '_'; not too long. */
static int valid_option(const char *opt)
{
	size_t n = strspn(opt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789_");

	return n && !opt[n] && n <= 100;
}

/* 1 if CONFIG_@opt=y or =m, 0 if "is not set" or absent, -1 no config. */
static int config_option(const char *path, const char *opt)
{
	char line[512], want[128];
	int ret = 0, fd, start = 1;
	size_t n;
	gzFile f;

	if (!valid_option(opt))
		return 0;
	n = (size_t)snprintf(want, sizeof(want), "CONFIG_%s=", opt);
	/* gzdopen() of our own close-on-exec descriptor: gzopen() has none. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	f = gzdopen(fd, "rb");	/* also reads uncompressed files */
	if (!f) {
		close(fd);
		return -1;
	}
	while (gzgets(f, line, sizeof(line))) {
		size_t len = strlen(line);

		/* Only at the start of a line: a long line comes in pieces. */
		if (start && len >= n && !strncmp(line, want, n)) {
			ret = line[n] == 'y' || line[n] == 'm';
			break;
		}
		start = len && line[len - 1] == '\n';
	}
	gzclose(f);
	return ret;
}

int p2pbuf_kernel_config(const char *path, const char *option, int *state)
{
	struct p2pbuf_explain_source src = { .size = sizeof(src),
					     .kernel_config = path };
	char file[PATH_MAX];
	int ret;

	if (!option || !state || !valid_option(option))
		return -EINVAL;
	if (find_config(path ? &src : NULL, file, sizeof(file)))
		return -ENOENT;
	ret = config_option(file, option);
	if (ret < 0)
		return -ENOENT;
	*state = ret;
	return 0;
}

static int find_config(const struct p2pbuf_explain_source *src, char *path,
		       size_t len)
{
	struct utsname uts;

	if (src && src->kernel_config) {
		p2pbuf__strlcpy(path, src->kernel_config, len);
		return access(path, R_OK) ? -ENOENT : 0;
	}
	if (!access("/proc/config.gz", R_OK)) {
		p2pbuf__strlcpy(path, "/proc/config.gz", len);
		return 0;
	}
	if (!uname(&uts)) {
		snprintf(path, len, "/boot/config-%s", uts.release);
		if (!access(path, R_OK))
			return 0;
	}
	return -ENOENT;
}

static int iommu_group(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/iommu_group", sysfs, bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/');
	return atoi(base ? base + 1 : link);
}

/*
 * The closest PCI device above both @a and @b in the sysfs device tree
 * (their common upstream bridge), or "" if they meet only at the host
 * bridge.
 */
static void common_upstream(const char *sysfs, const char *a, const char *b,
			    char out[16])
{
	char pa[PATH_MAX], pb[PATH_MAX], path[PATH_MAX];
	char *sa, *sb, *ta, *tb;
	char pci[16];

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", sysfs, a);
	if (!realpath(path, pa))
		return;
	snprintf(path, sizeof(path), "%s/%s", sysfs, b);
	if (!realpath(path, pb))
		return;
	ta = strtok_r(pa, "/", &sa);
	tb = strtok_r(pb, "/", &sb);
	while (ta && tb && !strcmp(ta, tb)) {
		char *na = strtok_r(NULL, "/", &sa);
		char *nb = strtok_r(NULL, "/", &sb);

		/* A shared component with more below it on both sides. */
		if (na && nb && !p2pbuf__pci_address(ta, pci))
			memcpy(out, pci, 16);
		ta = na;
		tb = nb;
	}
}

static int reason_from_word(const char *w)
{
	for (size_t i = 0; i < ARRAY_SIZE(reason_names); i++)
		if (!strcmp(w, reason_names[i]))
			return (int)i;
	return P2PBUF_REASON_OTHER;
}

static int map_from_word(const char *w)
{
	for (size_t i = 0; i < ARRAY_SIZE(map_names); i++)
		if (!strcmp(w, map_names[i]))
			return (int)i;
	return P2PBUF_MAP_ERROR;
}

/* The probe's line for the pair, if the probe is loaded. */
static int probe_verdict(const char *dir, const char *provider,
			 const char *client, struct p2pbuf_explanation *out)
{
	char path[PATH_MAX], line[512];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/matrix", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char p[32], c[32], map[32], reason[64];
		unsigned long long dma;
		int distance;

		if (sscanf(line, "provider=%31s client=%31s distance=%d map=%31s dma=%llx reason=%63s",
			   p, c, &distance, map, &dma, reason) != 6)
			continue;
		if (strcmp(p, provider) || strcmp(c, client))
			continue;
		out->distance = distance;
		out->map = map_from_word(map);
		out->dma_address = dma;
		p2pbuf__strlcpy(out->reason_code, reason, sizeof(out->reason_code));
		out->reason = reason_from_word(reason);
		out->kernel_verdict = 1;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static int pci_exists(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", sysfs, bdf);
	return !access(path, F_OK);
}

static int has_p2pmem(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/p2pmem", sysfs, bdf);
	return !access(path, F_OK);
}

/*
 * Without CONFIG_DMABUF_MOVE_NOTIFY the dma-buf core pins a dynamic
 * exporter's buffer for as long as an importer has it mapped.
 */
#define PINS_ON_MAP_TEXT "the kernel is built without CONFIG_DMABUF_MOVE_NOTIFY, so a buffer stays pinned while an importer has it mapped (p2pgem: in VRAM within its pin quota, else in system memory)"

void p2pbuf__explain_say(struct p2pbuf_explanation *out, const char *provider,
			 const char *client)
{
	const char *how = "";

	switch (out->reason) {
	case P2PBUF_REASON_NO_P2PDMA_KERNEL:
		how = "the kernel is built without CONFIG_PCI_P2PDMA, so device memory is never mapped for peers";
		break;
	case P2PBUF_REASON_NO_MOVE_NOTIFY_KERNEL:
		how = PINS_ON_MAP_TEXT;
		break;
	case P2PBUF_REASON_NO_SUCH_DEVICE:
		how = "one of the two PCI addresses does not exist";
		break;
	case P2PBUF_REASON_NOT_PROVIDER:
		how = "the provider has registered no P2P memory (no p2pmem in sysfs)";
		break;
	case P2PBUF_REASON_SAME_DEVICE:
		how = "provider and client are the same device: it uses its memory directly";
		break;
	case P2PBUF_REASON_ACS_REDIRECT:
		how = "a bridge between them has ACS redirect enabled, so P2P TLPs would go up to the root complex";
		break;
	case P2PBUF_REASON_HOST_BRIDGE_NOT_WHITELISTED:
		how = "they share no switch and the host bridge is not on the kernel's P2P whitelist";
		break;
	case P2PBUF_REASON_DMA_MAP_REFUSED:
		how = "dma_map_sgtable refused the P2P pages for the client (-EREMOTEIO)";
		break;
	case P2PBUF_REASON_CLIENT_DMA_MASK:
		how = "the client's DMA mask cannot address the provider's memory";
		break;
	case P2PBUF_REASON_DMA_MAP_FAILED:
		how = "dma_map_sgtable failed for the client";
		break;
	case P2PBUF_REASON_NO_KERNEL_VERDICT:
		how = out->common_upstream[0] ?
			"derived from sysfs only (load p2pbuf_probe for the kernel's verdict): they share a switch, so bus addresses unless ACS redirect is set" :
			"derived from sysfs only (load p2pbuf_probe for the kernel's verdict): they meet at the host bridge, which the kernel may or may not whitelist";
		break;
	case P2PBUF_REASON_OTHER:
		how = "the kernel gave a reason p2pbuf does not know";
		break;
	case P2PBUF_REASON_IN_SYSTEM_MEMORY:
		how = "the buffer is in system memory now (allocated there or evicted): the peer reaches it by ordinary DMA";
		break;
	case P2PBUF_REASON_PINNED_IN_SYSTEM_MEMORY:
		how = "the buffer is pinned in system memory by another importer and cannot return to VRAM while that pin lasts";
		break;
	case P2PBUF_REASON_IMPORTER_WITHOUT_P2P:
		how = "the importer does not allow peer2peer, so the exporter maps the buffer in system memory for it (moving it out of VRAM while that mapping lasts)";
		break;
	case P2PBUF_REASON_LARGER_THAN_VISIBLE:
		how = "the buffer is larger than the part of VRAM the bus reaches (the CPU-visible window), so the exporter maps it in system memory";
		break;
	default:
		break;
	}
	switch (out->map) {
	case P2PBUF_MAP_BUS_ADDRESS:
		snprintf(out->text, sizeof(out->text),
			 "%s reaches %s's memory peer to peer by PCI bus address%s%s",
			 client, provider,
			 out->common_upstream[0] ? " below " : "",
			 out->common_upstream);
		break;
	case P2PBUF_MAP_HOST_BRIDGE:
		snprintf(out->text, sizeof(out->text),
			 "%s reaches %s's memory peer to peer through the host bridge",
			 client, provider);
		break;
	case P2PBUF_MAP_IOMMU:
		snprintf(out->text, sizeof(out->text),
			 "%s reaches %s's memory peer to peer through the IOMMU (group %d)",
			 client, provider, out->client_iommu_group);
		break;
	default:
		snprintf(out->text, sizeof(out->text), "%s: %s",
			 out->map == P2PBUF_MAP_UNKNOWN ? "unknown" : "no P2P", how);
		return;
	}
	/* P2P all the same, but pinned while mapped. */
	if (out->kernel_move_notify == 0)
		strncat(out->text, "; pinned while mapped (no CONFIG_DMABUF_MOVE_NOTIFY)",
			sizeof(out->text) - strlen(out->text) - 1);
	if (out->map == P2PBUF_MAP_BUS_ADDRESS && *how) {
		strncat(out->text, "; ", sizeof(out->text) - strlen(out->text) - 1);
		strncat(out->text, how, sizeof(out->text) - strlen(out->text) - 1);
	}
}

int p2pbuf__explain_source_in(const struct p2pbuf_explain_source *src,
			       struct p2pbuf_explain_source *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	if (!src)
		return 0;
	ret = p2pbuf__struct_in(s, sizeof(*s), src);
	if (ret)
		return ret;
	if (s->pad || !p2pbuf__zero(s->reserved, sizeof(s->reserved)))
		return -EINVAL;
	return 0;
}

int p2pbuf_explain(const char *provider_s, const char *client_s,
		   const struct p2pbuf_explain_source *src_u,
		   struct p2pbuf_explanation *out)
{
	struct p2pbuf_explain_source src_k, *src = &src_k;
	const char *sysfs, *probe;
	struct p2pbuf_explanation e;
	char provider[16], client[16], config[PATH_MAX];
	const char *name = "-";
	int ret;

	if (!out || p2pbuf__pci_address(provider_s, provider) ||
	    p2pbuf__pci_address(client_s, client))
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(out, sizeof(*out));
	if (ret)
		return ret;
	ret = p2pbuf__explain_source_in(src_u, &src_k);
	if (ret)
		return ret;
	sysfs = src->sysfs_pci ? src->sysfs_pci : DEFAULT_SYSFS_PCI;
	probe = src->probe_dir ? src->probe_dir : DEFAULT_PROBE_DIR;

	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	e.distance = -1;
	e.kernel_p2pdma = -1;
	e.kernel_move_notify = -1;
	e.provider_iommu_group = iommu_group(sysfs, provider);
	e.client_iommu_group = iommu_group(sysfs, client);
	if (!find_config(src, config, sizeof(config))) {
		e.kernel_p2pdma = config_option(config, "PCI_P2PDMA");
		e.kernel_move_notify = config_option(config, "DMABUF_MOVE_NOTIFY");
	}
	common_upstream(sysfs, provider, client, e.common_upstream);

	if (!pci_exists(sysfs, provider) || !pci_exists(sysfs, client)) {
		e.map = P2PBUF_MAP_NONE;
		e.reason = P2PBUF_REASON_NO_SUCH_DEVICE;
	} else if (!strcmp(provider, client)) {
		e.map = P2PBUF_MAP_NONE;
		e.reason = P2PBUF_REASON_SAME_DEVICE;
	} else if (e.kernel_p2pdma == 0) {
		e.map = P2PBUF_MAP_NONE;
		e.reason = P2PBUF_REASON_NO_P2PDMA_KERNEL;
	} else if (!probe_verdict(probe, provider, client, &e)) {
		/* The kernel's verdict; a p2pmem provider proves P2PDMA. */
		if (e.kernel_p2pdma < 0)
			e.kernel_p2pdma = 1;
	} else if (!has_p2pmem(sysfs, provider)) {
		e.map = P2PBUF_MAP_NONE;
		e.reason = P2PBUF_REASON_NOT_PROVIDER;
	} else {
		e.kernel_p2pdma = 1;
		e.map = e.common_upstream[0] ? P2PBUF_MAP_BUS_ADDRESS :
					       P2PBUF_MAP_UNKNOWN;
		e.reason = P2PBUF_REASON_NO_KERNEL_VERDICT;
	}
	/*
	 * Without CONFIG_DMABUF_MOVE_NOTIFY a P2P verdict stands: the dma-buf
	 * core pins the buffer while the importer has it mapped, and the
	 * text says so (p2pbuf__explain_say()).
	 */
	/* The kernel's own word is kept only when p2pbuf does not know it. */
	if (e.reason != P2PBUF_REASON_OTHER || !e.reason_code[0]) {
		p2pbuf_reason_name(e.reason, &name);
		p2pbuf__strlcpy(e.reason_code, name, sizeof(e.reason_code));
	}
	p2pbuf__explain_say(&e, provider, client);
	p2pbuf__struct_out(out, &e, sizeof(e));
	return 0;
}

int p2pbuf__explain_rule_out(struct p2pbuf_explanation *e, int reason,
			     const char *provider, const char *client)
{
	const char *name = "-";

	if (reason <= 0 || e->reason == P2PBUF_REASON_NO_SUCH_DEVICE ||
	    e->reason == P2PBUF_REASON_SAME_DEVICE)
		return 0;
	e->map = P2PBUF_MAP_NONE;
	e->reason = reason;
	e->dma_address = 0;
	p2pbuf_reason_name(e->reason, &name);
	p2pbuf__strlcpy(e->reason_code, name, sizeof(e->reason_code));
	p2pbuf__explain_say(e, provider, client);
	return 1;
}

int p2pbuf__explanation_in(const struct p2pbuf_explanation *e,
			   struct p2pbuf_explanation *k)
{
	int ret;

	ret = p2pbuf__struct_in(k, sizeof(*k), e);
	if (ret)
		return ret;
	if (k->pad || !p2pbuf__zero(k->reserved, sizeof(k->reserved)))
		return -EINVAL;
	return 0;
}

/* p2pbuf_explain_for_importer() on the library's own answer. */
static void for_importer(struct p2pbuf_explanation *e, unsigned int importer)
{
	/*
	 * A P2P answer, or an open one (derived from sysfs, the host bridge
	 * undecided): for this importer it is no. Any "none" stays, with its
	 * own reason, and so do a missing device and the device itself.
	 */
	if (importer == P2PBUF_IMPORTER_P2P ||
	    (e->map != P2PBUF_MAP_BUS_ADDRESS &&
	     e->map != P2PBUF_MAP_HOST_BRIDGE && e->map != P2PBUF_MAP_IOMMU &&
	     e->map != P2PBUF_MAP_UNKNOWN))
		return;
	/* "none" answers name neither device: no addresses needed. */
	if (p2pbuf__explain_rule_out(e, P2PBUF_REASON_IMPORTER_WITHOUT_P2P,
				     "", "") &&
	    importer == P2PBUF_IMPORTER_STATIC)
		snprintf(e->text, sizeof(e->text),
			 "no P2P: a static importer (dma_buf_attach, no move_notify) never gets device memory peer to peer; its mapping pins the buffer in system memory, for every importer, until it detaches");
}

int p2pbuf_explain_for_importer(struct p2pbuf_explanation *e,
				unsigned int importer)
{
	struct p2pbuf_explanation k;
	int ret;

	if (!e || importer > P2PBUF_IMPORTER_STATIC)
		return -EINVAL;
	ret = p2pbuf__explanation_in(e, &k);
	if (ret)
		return ret;
	for_importer(&k, importer);
	p2pbuf__struct_out(e, &k, sizeof(k));
	return 0;
}
