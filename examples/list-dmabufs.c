// SPDX-License-Identifier: MIT
/*
 * list-dmabufs: the dma-bufs a process holds, from /proc/PID/fdinfo.
 *
 *   list-dmabufs [PID]
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p2pbuf/p2pbuf.h>

int main(int argc, char **argv)
{
	struct p2pbuf_dmabuf_info infos[256];
	pid_t pid = argc > 1 ? (pid_t)atoi(argv[1]) : 0;
	unsigned int n;
	int ret;

	P2PBUF_INIT_ARRAY(infos, 256);

	ret = p2pbuf_dmabuf_list(pid, infos, 256, &n);
	if (ret) {
		fprintf(stderr, "list-dmabufs: %s\n", strerror(-ret));
		return 1;
	}
	for (unsigned int i = 0; i < n && i < 256; i++)
		printf("fd %d: %llu bytes from %s, name '%s', inode %llu\n",
		       infos[i].fd, (unsigned long long)infos[i].buf_size,
		       infos[i].exporter, infos[i].name,
		       (unsigned long long)infos[i].inode);
	printf("%u dma-buf%s\n", n, n == 1 ? "" : "s");
	return 0;
}
