// SPDX-License-Identifier: MIT
/*
 * p2pgem_demo: what `make demo` shows of p2pgem. Allocates VRAM buffers
 * totalling twice the VRAM heap, fills each with its own pattern through a
 * CPU mapping, then reads every byte back, and prints where each buffer
 * lives and how many evictions TTM did meanwhile.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "p2pgem_test_lib.h"

#define BO_SIZE (8ull << 20)
#define MAX_BOS 256

static const char *placement_name(__u32 placement)
{
	switch (placement) {
	case P2PGEM_PLACEMENT_VRAM: return "VRAM";
	case P2PGEM_PLACEMENT_SYSTEM: return "system";
	case P2PGEM_PLACEMENT_VRAM_PREFERRED: return "VRAM-preferred";
	default: return "?";
	}
}

static void show_device(int fd, const char *when)
{
	struct drm_p2pgem_device_info dev;

	if (p2p_dev_info(fd, &dev))
		return;
	printf("  %-28s VRAM used %4llu/%llu MiB, visible used %3llu/%llu MiB, evictions %llu, moves %llu\n",
	       when, dev.vram_used >> 20, dev.vram_size >> 20,
	       dev.visible_used >> 20, dev.visible_size >> 20,
	       dev.evictions, dev.moves);
}

int main(void)
{
	struct drm_p2pgem_device_info dev;
	uint32_t handles[MAX_BOS];
	unsigned int n, i, bad = 0;
	int fd;

	fd = p2p_open(0);
	if (fd < 0 || p2p_dev_info(fd, &dev)) {
		fprintf(stderr, "p2pgem_demo: no p2pgem device\n");
		return 1;
	}
	n = 2 * dev.vram_size / BO_SIZE;
	if (n > MAX_BOS)
		n = MAX_BOS;

	printf("p2pgem: %llu MiB VRAM heap, %llu MiB CPU-visible; allocating %u x %llu MiB VRAM buffers (2x VRAM)\n\n",
	       dev.vram_size >> 20, dev.visible_size >> 20, n, BO_SIZE >> 20);
	show_device(fd, "before:");

	for (i = 0; i < n; i++) {
		void *p;

		if (p2p_create(fd, BO_SIZE, P2PGEM_PLACEMENT_VRAM, 0, &handles[i])) {
			fprintf(stderr, "p2pgem_demo: create %u failed\n", i);
			return 1;
		}
		p = p2p_map(fd, handles[i], BO_SIZE);
		if (!p) {
			fprintf(stderr, "p2pgem_demo: mmap %u failed\n", i);
			return 1;
		}
		fill_pattern(p, BO_SIZE, i + 1);
		munmap(p, BO_SIZE);
	}
	show_device(fd, "after filling:");

	for (i = 0; i < n; i++) {
		void *p = p2p_map(fd, handles[i], BO_SIZE);

		if (!p || check_pattern(p, BO_SIZE, i + 1) >= 0)
			bad++;
		if (p)
			munmap(p, BO_SIZE);
	}
	show_device(fd, "after reading all back:");

	printf("\n  %-6s %-8s %-14s %-12s %s\n", "handle", "size", "placement now",
	       "CPU-visible", "moves");
	for (i = 0; i < n; i++) {
		struct drm_p2pgem_gem_info info;

		if (p2p_info(fd, handles[i], &info))
			continue;
		printf("  %-6u %-8s %-14s %-12s %llu\n", handles[i], "8 MiB",
		       placement_name(info.placement),
		       info.cpu_visible ? "yes" : "no",
		       (unsigned long long)info.move_count);
	}
	printf("\n%u buffers, %u with a wrong byte after eviction churn: %s\n",
	       n, bad, bad ? "DATA LOST" : "every byte intact");
	close(fd);
	return bad ? 1 : 0;
}
