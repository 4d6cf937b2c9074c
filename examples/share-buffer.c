// SPDX-License-Identifier: MIT
/*
 * share-buffer: allocate a buffer, fill it, and hand it to another process
 * over a UNIX socket; the other process maps it and prints what it sees.
 *
 *   share-buffer [DEVICE]     DEVICE: a DRM device ("vgem", "p2pgem",
 *                             /dev/dri/card0, a PCI address); without it,
 *                             system memory from /dev/udmabuf
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <p2pbuf/p2pbuf.h>

static int receiver(int sock)
{
	struct p2pbuf_mapping map = { .size = sizeof(map) };
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	unsigned int n;
	int fd, ret;

	ret = p2pbuf_recv(sock, &fd, &meta, 1, &n, 0);
	if (ret) {
		fprintf(stderr, "receive: %s\n", strerror(-ret));
		return 1;
	}
	ret = p2pbuf_mmap(fd, 0, 0, P2PBUF_ACCESS_READ, &map);
	/* Read-write bracket: udmabuf on 6.1 wants one direction throughout. */
	if (!ret)
		ret = p2pbuf_cpu_access_begin(fd, P2PBUF_ACCESS_RW);
	if (!ret) {
		printf("receiver: %llu bytes named '%s': \"%s\"\n",
		       (unsigned long long)meta.buf_size, meta.name, (char *)map.addr);
		p2pbuf_cpu_access_end(fd, P2PBUF_ACCESS_RW);
		p2pbuf_munmap(&map);
	}
	close(fd);
	fflush(stdout);	/* the child leaves with _exit() */
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct p2pbuf_device *dev = NULL;
	struct p2pbuf_buffer *buf = NULL;
	unsigned int placement;
	struct p2pbuf_mapping map = { .size = sizeof(map) };
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	int sv[2], fd, ret, status;
	pid_t pid;

	/* Allocate and export: a device buffer, or udmabuf system memory. */
	if (argc > 1) {
		ret = p2pbuf_device_open(argv[1], &dev);
		if (!ret)
			ret = p2pbuf_buffer_alloc(dev, 1 << 20, P2PBUF_PLACEMENT_VRAM,
						  0, &buf);
		/* A device without VRAM (vgem): system memory then. */
		if (ret == -EOPNOTSUPP)
			ret = p2pbuf_buffer_alloc(dev, 1 << 20, P2PBUF_PLACEMENT_ANY,
						  0, &buf);
		if (!ret)
			ret = p2pbuf_buffer_export(buf, &fd);
		if (!ret && !p2pbuf_buffer_placement(buf, &placement))
			printf("sender: 1 MiB in %s\n",
			       placement == P2PBUF_PLACEMENT_VRAM ? "VRAM" :
			       "system memory");
	} else {
		ret = p2pbuf_udmabuf_create(64 << 10, &fd);
	}
	if (ret) {
		fprintf(stderr, "allocate: %s\n", strerror(-ret));
		return 1;
	}

	/* Write into it, inside a CPU access bracket. */
	p2pbuf_dmabuf_set_name(fd, "example");
	if (p2pbuf_mmap(fd, 0, 0, P2PBUF_ACCESS_WRITE, &map) ||
	    p2pbuf_cpu_access_begin(fd, P2PBUF_ACCESS_RW))
		return 1;
	strcpy(map.addr, "hello from the other process");
	p2pbuf_cpu_access_end(fd, P2PBUF_ACCESS_RW);
	p2pbuf_munmap(&map);

	/* Hand it over: a SOCK_SEQPACKET socket, one message. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return 1;
	fflush(stdout);	/* or the child prints our buffered lines again */
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(receiver(sv[1]));
	}
	close(sv[1]);
	p2pbuf_meta_init(fd, &meta);
	strcpy(meta.name, "example");
	ret = p2pbuf_send(sv[0], &fd, &meta, 1, 0);
	if (ret)
		fprintf(stderr, "send: %s\n", strerror(-ret));
	waitpid(pid, &status, 0);

	close(sv[0]);
	close(fd);
	if (buf)
		p2pbuf_buffer_put(buf);
	if (dev)
		p2pbuf_device_close(dev);
	return ret || !WIFEXITED(status) || WEXITSTATUS(status);
}
