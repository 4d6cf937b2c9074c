// SPDX-License-Identifier: GPL-2.0
/*
 * make demo: a VRAM buffer served to rdma-core's rping client by
 * p2pbuf_rdma.ko, and the data seen arriving in it.
 *
 *   p2pbuf_rdma_demo ADDR PORT PINGS SIZE
 *
 * Allocates a 1 MiB p2pgem VRAM buffer, serves it on rdma_cm port PORT,
 * runs `rping -c -a ADDR -p PORT -C PINGS -S SIZE -V -v` against it and
 * prints rping's last line, the server's counters, where the buffer is,
 * and the start of the last window read through the buffer's CPU mapping.
 * Exit 0 when rping validated every ping and the buffer holds its data.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/p2pbuf_rdma.h>

#include "p2pgem_test_lib.h"

#define BUF_SIZE (1u << 20)

int main(int argc, char **argv)
{
	struct p2pbuf_rdma_serve serve = { 0 };
	struct p2pbuf_rdma_query q = { 0 };
	struct drm_p2pgem_gem_info info;
	char cmd[256], *line = NULL, last[256] = "";
	int fd, rd, dmabuf, pings, size, st, lines = 0;
	size_t cap = 0;
	uint32_t handle;
	const char *at;
	uint64_t win;
	uint8_t *cpu;
	FILE *p;

	if (argc != 5) {
		fprintf(stderr, "usage: %s ADDR PORT PINGS SIZE\n", argv[0]);
		return 2;
	}
	pings = atoi(argv[3]);
	size = atoi(argv[4]);
	if (pings <= 0 || size < 26 || size > 65535 ||
	    (uint64_t)size * pings > BUF_SIZE) {
		fprintf(stderr, "bad PINGS or SIZE\n");
		return 2;
	}
	fd = p2p_open(0);
	if (fd < 0 || p2p_create(fd, BUF_SIZE, P2PGEM_PLACEMENT_VRAM,
				 P2PGEM_CREATE_CPU_ACCESS, &handle)) {
		fprintf(stderr, "no p2pgem VRAM buffer\n");
		return 1;
	}
	dmabuf = export_bo(fd, handle);
	rd = open("/dev/p2pbuf_rdma", O_RDWR | O_CLOEXEC);
	if (dmabuf < 0 || rd < 0) {
		fprintf(stderr, "no dma-buf or no /dev/p2pbuf_rdma: %s\n",
			strerror(errno));
		return 1;
	}
	serve.dmabuf_fd = dmabuf;
	serve.port = (uint16_t)atoi(argv[2]);
	serve.length = BUF_SIZE;
	if (ioctl(rd, P2PBUF_RDMA_IOC_SERVE, &serve)) {
		fprintf(stderr, "SERVE: %s\n", strerror(errno));
		return 1;
	}
	printf("  a 1 MiB VRAM buffer of p2pgem's, served on rdma_cm port %u (p2pbuf_rdma.ko)\n",
	       serve.port);
	snprintf(cmd, sizeof(cmd),
		 "timeout 120 rping -c -a %s -p %u -C %d -S %d -V -v 2>&1",
		 argv[1], serve.port, pings, size);
	printf("  $ rping -c -a %s -p %u -C %d -S %d -V -v\n", argv[1],
	       serve.port, pings, size);
	p = popen(cmd, "r");
	if (!p)
		return 1;
	while (getline(&line, &cap, p) > 0) {
		if (!strstr(line, "ping data: "))
			continue;
		if (!lines++)
			printf("  %.70s...\n", line);
		snprintf(last, sizeof(last), "%.70s", line);
	}
	free(line);
	st = pclose(p);
	if (lines > 1)
		printf("  ... %d pings, the last: %s...\n", lines, last);
	q.handle = serve.handle;
	if (ioctl(rd, P2PBUF_RDMA_IOC_QUERY, &q)) {
		fprintf(stderr, "QUERY: %s\n", strerror(errno));
		return 1;
	}
	printf("  the server: %llu pings, %llu bytes RDMA READ into the buffer and %llu written back,\n"
	       "  through %s pages of the buffer (%llu maps)\n",
	       (unsigned long long)q.pings, (unsigned long long)q.bytes_read,
	       (unsigned long long)q.bytes_written,
	       q.placement == P2PBUF_RDMA_PLACEMENT_P2P ? "P2P (the VRAM BAR's)" :
	       q.placement == P2PBUF_RDMA_PLACEMENT_SYSTEM ? "system memory" :
	       "no", (unsigned long long)q.maps);
	memset(&info, 0, sizeof(info));
	if (!p2p_info(fd, handle, &info))
		printf("  the buffer is in %s\n",
		       info.placement == P2PGEM_PLACEMENT_VRAM ? "VRAM" :
		       "system memory");
	/* The last window, through p2pgem's CPU mapping of the object. */
	win = (uint64_t)(pings - 1) * size;
	cpu = p2p_map(fd, handle, BUF_SIZE);
	if (!cpu) {
		fprintf(stderr, "no CPU mapping\n");
		return 1;
	}
	at = (const char *)cpu + win;
	printf("  bytes %llu.. of the buffer, read by the CPU: \"%.40s...\"\n",
	       (unsigned long long)win, at);
	if (st || lines != pings || q.pings != (uint64_t)pings ||
	    strncmp(at, "rdma-ping-", 10)) {
		fprintf(stderr, "rping status %#x, %d of %d pings, buffer: %.16s\n",
			st, lines, pings, at);
		return 1;
	}
	close(rd);
	close(dmabuf);
	close(fd);
	return 0;
}
