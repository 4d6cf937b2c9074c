// SPDX-License-Identifier: MIT
/*
 * p2pbuf serve, rdma-read, rdma-write: a buffer served to remote peers by
 * p2pbuf_rdma.ko, and the client of its own protocol (libp2pbuf-rdma).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#ifdef P2PBUF_HAVE_RDMACM
#include <p2pbuf/p2pbuf_rdma.h>
#endif

static void serve_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf serve PID:FD --port N [--offset N] [--length N] [--json]\n\n"
		"Serve the buffer PID:FD (taken with pidfd_getfd(), as 'p2pbuf alloc\n"
		"--hold' prints it) to remote RDMA peers through p2pbuf_rdma.ko: rping\n"
		"clients and 'p2pbuf rdma-read/rdma-write'. Serves until SIGINT or\n"
		"SIGTERM, then prints the server's counters. --offset and --length: the\n"
		"served range (default: the whole buffer).\n");
}

static void xfer_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf rdma-read HOST:PORT OFFSET LENGTH FILE [--json]\n"
		"       p2pbuf rdma-write HOST:PORT OFFSET LENGTH FILE [--json]\n\n"
		"Move LENGTH bytes at OFFSET of the range a 'p2pbuf serve' serves\n"
		"into FILE (rdma-read, the file is created or truncated) or from FILE\n"
		"(rdma-write), over RDMA with p2pbuf's own protocol. Sizes take K, M,\n"
		"G or T. A progress line goes to a terminal's stderr.\n");
}

#ifdef P2PBUF_HAVE_RDMACM

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_query(const struct p2pbuf_rdma_query *q, int json)
{
	if (json) {
		printf(",\"connections\":%llu,\"pings\":%llu,\"requests\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu,\"maps\":%llu,\"move_notifies\":%llu,\"errors\":%llu",
		       (unsigned long long)q->connections,
		       (unsigned long long)q->pings,
		       (unsigned long long)q->requests,
		       (unsigned long long)q->bytes_read,
		       (unsigned long long)q->bytes_written,
		       (unsigned long long)q->maps,
		       (unsigned long long)q->move_notifies,
		       (unsigned long long)q->errors);
		return;
	}
	printf("connections %llu, pings %llu, requests %llu, bytes read %llu, written %llu, maps %llu, move_notifies %llu, errors %llu\n",
	       (unsigned long long)q->connections,
	       (unsigned long long)q->pings,
	       (unsigned long long)q->requests,
	       (unsigned long long)q->bytes_read,
	       (unsigned long long)q->bytes_written,
	       (unsigned long long)q->maps,
	       (unsigned long long)q->move_notifies,
	       (unsigned long long)q->errors);
}

int cmd_serve(int argc, char **argv)
{
	struct p2pbuf_rdma_serve_args a = { .size = sizeof(a) };
	struct p2pbuf_rdma_server *srv;
	struct p2pbuf_rdma_query q;
	struct cli_hold hold;
	struct opts o = { 0 };
	const char *pos[1];
	int npos, ret, buf, sig;

	ret = cli_parse_options(argc, argv, "--port --offset --length --json",
				&o, pos, 1, &npos, serve_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos < 1)
		return cli_error(EXIT_USAGE, 0, "missing PID:FD");
	if (!o.port)
		return cli_error(EXIT_USAGE, 0, "missing --port");
	ret = cli_take_buffer(pos[0], &buf);
	if (ret)
		return ret;
	a.dmabuf_fd = buf;
	a.port = o.port;
	a.offset = o.offset;
	a.length = o.length;
	ret = p2pbuf_rdma_serve(&a, &srv);
	close(buf);
	if (ret)
		return cli_error(ret == -ENOENT ? EXIT_UNAVAILABLE : EXIT_FAILED,
				 ret, "cannot serve %s on port %u: %s%s", pos[0],
				 o.port, strerror(-ret),
				 ret == -ENOENT ? " (p2pbuf_rdma.ko is not loaded)" : "");
	cli_hold_start(&hold);
	if (!o.json) {
		printf("serving %s on port %u; SIGINT or SIGTERM stops\n", pos[0],
		       o.port);
		fflush(stdout);
	}
	sig = cli_hold_wait(&hold, -1);
	ret = p2pbuf_rdma_server_query(srv, &q);
	p2pbuf_rdma_server_stop(srv);
	if (ret)
		return cli_error(EXIT_FAILED, ret, "query: %s", strerror(-ret));
	if (o.json) {
		printf("{\"command\":\"serve\",\"buffer\":\"%s\",\"port\":%u,\"signal\":%d",
		       pos[0], o.port, sig);
		print_query(&q, 1);
		printf(",\"ok\":true}\n");
	} else {
		print_query(&q, 0);
	}
	return EXIT_OK;
}

struct progress {
	const char *cmd;
	int tty;
};

static int show_progress(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;
	char a[32], b[32];

	if (!p->tty)
		return 0;
	cli_human_size(done, a, sizeof(a));
	cli_human_size(total, b, sizeof(b));
	fprintf(stderr, "\r%s %s of %s (%3.0f%%)   ", p->cmd, a, b,
		100.0 * (double)done / (double)total);
	return 0;
}

/* All @len bytes of @fd into @mem (@out: @mem into @fd). */
static int file_io(int fd, uint8_t *mem, uint64_t len, int out)
{
	while (len) {
		ssize_t n = out ? write(fd, mem, len) : read(fd, mem, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ENODATA;
		mem += n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* "HOST:PORT" (an IPv6 address in brackets) into @host and @port. */
static int parse_host_port(const char *s, char *host, size_t len,
			   uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t n;
	uint64_t p;

	if (!colon || cli_parse_u64(colon + 1, &p) || !p || p > 65535)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (!n || n >= len)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = 0;
	*port = (uint16_t)p;
	return 0;
}

#define RXE_SKEW 64

static int rdma_xfer_cmd(int argc, char **argv, int write)
{
	const char *cmd = write ? "rdma-write" : "rdma-read", *pos[4];
	struct p2pbuf_rdma_xfer x = { .size = sizeof(x) };
	struct progress pr = { .cmd = cmd };
	struct p2pbuf_rdma_client *c;
	uint64_t off, len, done = 0;
	struct opts o = { 0 };
	char host[256], now[32];
	int npos, ret, fd;
	uint16_t port;
	uint8_t *mem;
	void *map;
	double start, took;

	ret = cli_parse_options(argc, argv, "--json", &o, pos, 4, &npos,
				xfer_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos < 4)
		return cli_error(EXIT_USAGE, 0, "missing %s",
				 (const char *[]){ "HOST:PORT", "OFFSET",
						   "LENGTH", "FILE" }[npos]);
	if (parse_host_port(pos[0], host, sizeof(host), &port))
		return cli_error(EXIT_USAGE, 0, "'%s' is not HOST:PORT", pos[0]);
	if (cli_parse_size(pos[1], &off))
		return cli_error(EXIT_USAGE, 0, "OFFSET '%s' is not a size", pos[1]);
	if (cli_parse_size(pos[2], &len) || !len || len > SIZE_MAX / 2)
		return cli_error(EXIT_USAGE, 0, "LENGTH '%s' is not a size above 0",
				 pos[2]);
	fd = open(pos[3], write ? O_RDONLY | O_CLOEXEC :
		  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cli_error(EXIT_FAILED, errno, "%s: %s", pos[3],
				 strerror(errno));
	/*
	 * Anonymous memory, registered for the NIC; the file by read/write.
	 * The bytes start RXE_SKEW into the mapping: 6.1's rxe reads past
	 * its MR's map array (rxe_mr_copy()) when a copy ends at the end of
	 * a page-aligned MR of a multiple of 256 pages, as a whole number of
	 * MiB would be.
	 */
	map = mmap(NULL, len + RXE_SKEW, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		close(fd);
		return cli_error(EXIT_FAILED, ret, "%s", strerror(-ret));
	}
	mem = (uint8_t *)map + RXE_SKEW;
	if (write) {
		ret = file_io(fd, mem, len, 0);
		if (ret) {
			munmap(map, len + RXE_SKEW);
			close(fd);
			return cli_error(EXIT_FAILED, ret, "%s: %s", pos[3],
					 ret == -ENODATA ? "shorter than LENGTH" :
					 strerror(-ret));
		}
	}
	ret = p2pbuf_rdma_connect(host, port, 0, &c);
	if (ret) {
		munmap(map, len + RXE_SKEW);
		close(fd);
		return cli_error(EXIT_FAILED, ret, "cannot connect to %s: %s",
				 pos[0], strerror(-ret));
	}
	pr.tty = isatty(STDERR_FILENO) && !o.json;
	x.op = write ? P2PBUF_RDMA_OP_WRITE : P2PBUF_RDMA_OP_READ;
	x.local = mem;
	x.offset = off;
	x.length = len;
	x.progress = show_progress;
	x.progress_arg = &pr;
	start = seconds();
	ret = p2pbuf_rdma_transfer(c, &x, &done);
	took = seconds() - start;
	p2pbuf_rdma_disconnect(c);
	if (pr.tty && done)
		fprintf(stderr, "\n");
	if (!write && !ret)
		ret = file_io(fd, mem, len, 1);
	if (!write && !ret && fsync(fd) && errno != EINVAL)
		ret = -errno;
	munmap(map, len + RXE_SKEW);
	close(fd);
	if (o.json) {
		printf("{\"command\":\"%s\",\"peer\":", cmd);
		cli_json_string(stdout, pos[0]);
		printf(",\"offset\":%llu,\"length\":%llu,\"done\":%llu,\"seconds\":%.6f,\"file\":",
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)done, took);
		cli_json_string(stdout, pos[3]);
		printf(",\"ok\":%s", ret ? "false" : "true");
		if (ret) {
			printf(",\"error\":");
			cli_json_string(stdout, strerror(-ret));
		}
		printf("}\n");
		return ret ? EXIT_FAILED : EXIT_OK;
	}
	if (ret)
		return cli_error(EXIT_FAILED, ret, "%s %s at %llu: %s", cmd,
				 pos[0], (unsigned long long)off, strerror(-ret));
	cli_human_size(done, now, sizeof(now));
	printf("%s %s %s %s at %llu in %.3f s\n", write ? "wrote" : "read",
	       now, write ? "to" : "from", pos[0], (unsigned long long)off,
	       took);
	return EXIT_OK;
}

#else

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error(EXIT_UNAVAILABLE, ENOSYS,
			 "built without librdmacm (libp2pbuf-rdma)");
}

static int rdma_xfer_cmd(int argc, char **argv, int write)
{
	(void)argc;
	(void)argv;
	(void)write;
	(void)xfer_help;
	(void)serve_help;
	return cli_error(EXIT_UNAVAILABLE, ENOSYS,
			 "built without librdmacm (libp2pbuf-rdma)");
}

#endif

int cmd_rdma_read(int argc, char **argv)
{
	return rdma_xfer_cmd(argc, argv, 0);
}

int cmd_rdma_write(int argc, char **argv)
{
	return rdma_xfer_cmd(argc, argv, 1);
}
