// SPDX-License-Identifier: MIT
/*
 * p2pbuf topology: the PCI peer-to-peer matrix, as the kernel sees it.
 *
 * Reads <debugfs>/p2pbuf_probe/{devices,matrix}, written by the p2pbuf_probe
 * module, and prints them for a person or, with --json, for a script.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PROBE_DIR "/sys/kernel/debug/p2pbuf_probe"
#define MAX_DEVICES 256
#define MAX_PAIRS 4096

struct device {
	char name[32];
	unsigned int vendor, device, class;
	int provider;
	char driver[64];
};

struct pair {
	char provider[32], client[32];
	int distance;
	char map[32];
	unsigned long long dma;
	char reason[64];
};

static struct device devices[MAX_DEVICES];
static struct pair pairs[MAX_PAIRS];
static int n_devices, n_pairs;

static int read_devices(const char *dir)
{
	char path[512], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/devices", dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n_devices < MAX_DEVICES) {
		struct device *d = &devices[n_devices];

		if (sscanf(line, "device=%31s id=%x:%x class=%x provider=%d driver=%63s",
			   d->name, &d->vendor, &d->device, &d->class,
			   &d->provider, d->driver) == 6)
			n_devices++;
	}
	fclose(f);
	return 0;
}

static int read_matrix(const char *dir)
{
	char path[512], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/matrix", dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n_pairs < MAX_PAIRS) {
		struct pair *p = &pairs[n_pairs];

		if (sscanf(line, "provider=%31s client=%31s distance=%d map=%31s dma=%llx reason=%63s",
			   p->provider, p->client, &p->distance, p->map,
			   &p->dma, p->reason) == 6)
			n_pairs++;
	}
	fclose(f);
	return 0;
}

static const struct device *find_device(const char *name)
{
	for (int i = 0; i < n_devices; i++)
		if (!strcmp(devices[i].name, name))
			return &devices[i];
	return NULL;
}

/* What a person calls the device. */
static const char *device_kind(const struct device *d)
{
	if (!d)
		return "?";
	if (d->vendor == 0x1af4 && d->device == 0x1110)
		return "vram";
	if (d->vendor == 0x1234 && d->device == 0x11e8)
		return "edu";
	if ((d->class >> 8) == 0x0108)
		return "nvme";
	if (d->vendor == 0x1af4)
		return "virtio";
	if ((d->class >> 8) == 0x0106)
		return "sata";
	if ((d->class >> 8) == 0x0c05)
		return "smbus";
	return "pci";
}

static const char *map_text(const char *map)
{
	if (!strcmp(map, "bus-address"))
		return "P2P by PCI bus address (common switch)";
	if (!strcmp(map, "host-bridge"))
		return "P2P through the host bridge";
	if (!strcmp(map, "iommu"))
		return "P2P through the host bridge, IOMMU address";
	if (!strcmp(map, "none"))
		return "no P2P";
	return "mapping failed";
}

static const char *reason_text(const char *reason)
{
	if (!strcmp(reason, "acs-redirect"))
		return "a bridge on the path has ACS redirect set";
	if (!strcmp(reason, "host-bridge-not-whitelisted"))
		return "no common upstream bridge, host bridge not whitelisted for P2P";
	if (!strcmp(reason, "dma-map-refused"))
		return "dma_map_sgtable refused the mapping (-EREMOTEIO)";
	if (!strcmp(reason, "client-dma-mask"))
		return "the client's DMA mask cannot address the provider";
	if (!strcmp(reason, "dma-map-failed"))
		return "dma_map_sgtable failed";
	return reason;
}

static void print_human(void)
{
	int shown = 0;

	for (int i = 0; i < n_devices; i++) {
		const struct device *prov = &devices[i];

		if (!prov->provider)
			continue;
		printf("%s%s %s (%04x:%04x) provides P2P memory:\n",
		       shown++ ? "\n" : "", device_kind(prov), prov->name,
		       prov->vendor, prov->device);
		printf("  %-14s %-7s %-8s %-12s %-18s %s\n", "client", "kind",
		       "distance", "map", "dma address", "meaning");
		for (int j = 0; j < n_pairs; j++) {
			const struct pair *p = &pairs[j];
			char dist[16], dma[24];
			const char *why;

			if (strcmp(p->provider, prov->name))
				continue;
			snprintf(dist, sizeof(dist), "%d", p->distance);
			if (p->distance < 0)
				snprintf(dist, sizeof(dist), "-");
			snprintf(dma, sizeof(dma), "0x%llx", p->dma);
			if (!p->dma)
				snprintf(dma, sizeof(dma), "-");
			why = strcmp(p->reason, "-") ? reason_text(p->reason) : NULL;
			printf("  %-14s %-7s %-8s %-12s %-18s %s%s%s\n", p->client,
			       device_kind(find_device(p->client)), dist, p->map,
			       dma, map_text(p->map), why ? ": " : "",
			       why ? why : "");
		}
	}
	if (!shown)
		printf("no PCI peer-to-peer providers found\n");
}

static void print_json(void)
{
	printf("{\"devices\":[");
	for (int i = 0; i < n_devices; i++) {
		const struct device *d = &devices[i];

		printf("%s{\"device\":\"%s\",\"kind\":\"%s\",\"vendor\":%u,\"id\":%u,\"class\":%u,\"provider\":%s,\"driver\":\"%s\"}",
		       i ? "," : "", d->name, device_kind(d), d->vendor,
		       d->device, d->class, d->provider ? "true" : "false",
		       d->driver);
	}
	printf("],\"pairs\":[");
	for (int i = 0; i < n_pairs; i++) {
		const struct pair *p = &pairs[i];

		printf("%s{\"provider\":\"%s\",\"client\":\"%s\",\"distance\":%d,\"map\":\"%s\",\"dma\":%llu,\"reason\":\"%s\"}",
		       i ? "," : "", p->provider, p->client, p->distance,
		       p->map, p->dma, p->reason);
	}
	printf("]}\n");
}

static void topology_usage(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf topology [--json] [--probe-dir DIR]\n"
		"\n"
		"Print, for every PCI peer-to-peer provider and every other PCI\n"
		"function, how the kernel would map the provider's memory for that\n"
		"function: by bus address, through the host bridge, through the\n"
		"IOMMU, or not at all and why. Needs the p2pbuf_probe module and\n"
		"debugfs.\n");
}

int cmd_topology(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *dir = PROBE_DIR, *pos[1];
	int npos, ret;

	ret = cli_parse_options(argc, argv, "--json --probe-dir", &o, pos, 0,
				&npos, topology_usage);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (o.probe_dir)
		dir = o.probe_dir;
	n_devices = 0;
	n_pairs = 0;
	ret = read_devices(dir);
	if (!ret)
		ret = read_matrix(dir);
	if (ret)
		return cli_error(EXIT_UNAVAILABLE, ret,
				 "cannot read %s: %s; load the probe (insmod tests/probe/p2pbuf_probe.ko) and mount debugfs",
				 dir, strerror(-ret));

	if (o.json)
		print_json();
	else
		print_human();
	return EXIT_OK;
}
