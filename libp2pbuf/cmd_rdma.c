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
		"usage: p2pbuf serve PID:FD --port N [--offset N] [--length N] [--passive]\n"
		"                    [--json]\n\n"
		"Serve the buffer PID:FD (taken with pidfd_getfd(), as 'p2pbuf alloc\n"
		"--hold' prints it) to remote RDMA peers through p2pbuf_rdma.ko: rping\n"
		"clients and 'p2pbuf rdma-read/rdma-write'. Serves until SIGINT or\n"
		"SIGTERM, then prints the server's counters. --offset and --length: the\n"
		"served range (default: the whole buffer). --passive lets clients\n"
		"register the range and move the data with their own RDMA READ and\n"
		"WRITE ('rdma-read --passive'): the buffer stays pinned where it is\n"
		"while a registration lasts, and those accesses are not fenced.\n");
}

/* The command asked about first, then its twin. */
static void xfer_help(FILE *out, int write)
{
	const char *cmd[] = { "rdma-read", "rdma-write" };

	fprintf(out,
		"usage: p2pbuf %s HOST:PORT OFFSET LENGTH FILE [--passive] [--json]\n"
		"       p2pbuf %s HOST:PORT OFFSET LENGTH FILE [--passive] [--json]\n\n",
		cmd[!!write], cmd[!write]);
	fprintf(out,
		"Move LENGTH bytes at OFFSET of the range a 'p2pbuf serve' serves\n"
		"into FILE (rdma-read, the file is created or truncated) or from FILE\n"
		"(rdma-write), over RDMA with p2pbuf's own protocol. Sizes take K, M,\n"
		"G or T. A progress line goes to a terminal's stderr. --passive: the\n"
		"range is registered with the server (which must run 'serve\n"
		"--passive') and this side moves it with its own RDMA READ or WRITE,\n"
		"without the server's CPU; the registration ends afterwards.\n");
}

static void rdma_read_help(FILE *out)
{
	xfer_help(out, 0);
}

static void rdma_write_help(FILE *out)
{
	xfer_help(out, 1);
}

#define SERVE_OPTS "--port --offset --length --passive --json"
#define XFER_OPTS "--passive --json"

/*
 * serve's command line: EXIT_OK with @o and @ref, -1 after --help or
 * --version, or EXIT_USAGE (said). The same with and without librdmacm.
 */
static int serve_args(int argc, char **argv, struct opts *o,
		      const char **ref)
{
	const char *pos[1];
	int npos, ret;

	ret = cli_parse_options(argc, argv, SERVE_OPTS, o, pos, 1, &npos,
				serve_help);
	if (ret)
		return ret;
	if (npos < 1)
		return cli_error(EXIT_USAGE, 0, "missing PID:FD");
	if (!o->port)
		return cli_error(EXIT_USAGE, 0, "missing --port");
	*ref = pos[0];
	return EXIT_OK;
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

/* rdma-read's and rdma-write's command line. */
struct xfer_args {
	struct opts o;
	const char *pos[4];	/* HOST:PORT OFFSET LENGTH FILE */
	char host[256];
	uint16_t port;
	uint64_t off, len;
};

/* As serve_args(). */
static int xfer_args(int argc, char **argv, struct xfer_args *a, int write)
{
	int npos, ret;

	ret = cli_parse_options(argc, argv, XFER_OPTS, &a->o, a->pos, 4,
				&npos, write ? rdma_write_help :
					       rdma_read_help);
	if (ret)
		return ret;
	if (npos < 4)
		return cli_error(EXIT_USAGE, 0, "missing %s",
				 (const char *[]){ "HOST:PORT", "OFFSET",
						   "LENGTH", "FILE" }[npos]);
	if (parse_host_port(a->pos[0], a->host, sizeof(a->host), &a->port))
		return cli_error(EXIT_USAGE, 0, "'%s' is not HOST:PORT",
				 a->pos[0]);
	if (cli_parse_size(a->pos[1], &a->off))
		return cli_error(EXIT_USAGE, 0, "OFFSET '%s' is not a size",
				 a->pos[1]);
	if (cli_parse_size(a->pos[2], &a->len) || !a->len ||
	    a->len > SIZE_MAX / 2)
		return cli_error(EXIT_USAGE, 0,
				 "LENGTH '%s' is not a size above 0", a->pos[2]);
	return EXIT_OK;
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
		printf(",\"connections\":%llu,\"pings\":%llu,\"requests\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu,\"maps\":%llu,\"move_notifies\":%llu,\"errors\":%llu,\"registrations\":%llu",
		       (unsigned long long)q->connections,
		       (unsigned long long)q->pings,
		       (unsigned long long)q->requests,
		       (unsigned long long)q->bytes_read,
		       (unsigned long long)q->bytes_written,
		       (unsigned long long)q->maps,
		       (unsigned long long)q->move_notifies,
		       (unsigned long long)q->errors,
		       (unsigned long long)q->registrations);
		return;
	}
	printf("connections %llu, pings %llu, requests %llu, bytes read %llu, written %llu, maps %llu, move_notifies %llu, errors %llu, registrations %llu\n",
	       (unsigned long long)q->connections,
	       (unsigned long long)q->pings,
	       (unsigned long long)q->requests,
	       (unsigned long long)q->bytes_read,
	       (unsigned long long)q->bytes_written,
	       (unsigned long long)q->maps,
	       (unsigned long long)q->move_notifies,
	       (unsigned long long)q->errors,
	       (unsigned long long)q->registrations);
}

int cmd_serve(int argc, char **argv)
{
	struct p2pbuf_rdma_serve_args a = { .size = sizeof(a) };
	struct p2pbuf_rdma_server *srv;
	struct p2pbuf_rdma_query q;
	struct cli_hold hold;
	struct opts o = { 0 };
	const char *ref = NULL, *why = "";
	int ret, buf, sig;

	ret = serve_args(argc, argv, &o, &ref);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = cli_take_buffer(ref, &buf);
	if (ret)
		return ret;
	a.dmabuf_fd = buf;
	a.port = o.port;
	a.offset = o.offset;
	a.length = o.length;
	a.flags = o.passive ? P2PBUF_RDMA_SERVE_PASSIVE : 0;
	ret = p2pbuf_rdma_serve(&a, &srv);
	close(buf);
	if (ret == -ENOENT)
		why = " (p2pbuf_rdma.ko is not loaded)";
	else if (ret == -EINVAL && o.passive)
		why = " (an older p2pbuf_rdma.ko has no --passive)";
	if (ret)
		return cli_error(ret == -ENOENT ? EXIT_UNAVAILABLE : EXIT_FAILED,
				 ret, "cannot serve %s on port %u: %s%s", ref,
				 o.port, strerror(-ret), why);
	cli_hold_start(&hold);
	if (!o.json) {
		printf("serving %s on port %u%s; SIGINT or SIGTERM stops\n",
		       ref, o.port,
		       o.passive ? ", clients may register it (passive)" : "");
		fflush(stdout);
	}
	sig = cli_hold_wait(&hold, -1);
	ret = p2pbuf_rdma_server_query(srv, &q);
	p2pbuf_rdma_server_stop(srv);
	if (ret)
		return cli_error(EXIT_FAILED, ret, "query: %s", strerror(-ret));
	if (o.json) {
		printf("{\"command\":\"serve\",\"buffer\":\"%s\",\"port\":%u,\"passive\":%s,\"signal\":%d",
		       ref, o.port, o.passive ? "true" : "false", sig);
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

/* A passive registration's error in words (p2pbuf_rdma_register()). */
static const char *register_words(int err)
{
	switch (-err) {
	case EPERM:
		return "the server does not allow passive registration (serve --passive)";
	case EBUSY:
		return "the server cannot pin the buffer where it is (the exporter refuses)";
	case E2BIG:
		return "the range is more than one registration holds: move less at once";
	case ERANGE:
		return "the range is not inside the served range";
	case EINVAL:
		return "the server does not know passive registration (older p2pbuf_rdma.ko)";
	case ENODEV:
		return "the buffer's exporter is gone";
	}
	return strerror(-err);
}

/*
 * The transfer of @a's range between @x->local and the server behind @c:
 * through its own protocol, or (--passive) registered and moved with this
 * side's RDMA READ or WRITE. On failure, @msg says what failed.
 */
static int move_range(struct p2pbuf_rdma_client *c,
		      const struct xfer_args *a,
		      const struct p2pbuf_rdma_xfer *x, uint64_t *done,
		      char *msg, size_t len)
{
	struct p2pbuf_rdma_remote r = { .size = sizeof(r) };
	int ret, ret2;

	if (!a->o.passive) {
		ret = p2pbuf_rdma_transfer(c, x, done);
		if (ret)
			snprintf(msg, len, "%s", strerror(-ret));
		return ret;
	}
	ret = p2pbuf_rdma_register(c, a->off, a->len, &r);
	if (ret) {
		snprintf(msg, len, "%s", register_words(ret));
		return ret;
	}
	ret = p2pbuf_rdma_remote_transfer(c, &r, x, done);
	/* A failed work request ends the connection, and the registration. */
	if (ret == -EIO) {
		snprintf(msg, len, "a work request failed: the registration was revoked or the server went away");
		return ret;
	}
	if (ret)
		snprintf(msg, len, "%s", strerror(-ret));
	ret2 = p2pbuf_rdma_unregister(c, &r);
	if (!ret && ret2) {
		snprintf(msg, len, "the data moved, but the registration did not end: %s",
			 strerror(-ret2));
		ret = ret2;
	}
	return ret;
}

#define RXE_SKEW 64

static int rdma_xfer_cmd(int argc, char **argv, int write)
{
	const char *cmd = write ? "rdma-write" : "rdma-read";
	struct p2pbuf_rdma_xfer x = { .size = sizeof(x) };
	struct progress pr = { .cmd = cmd };
	struct xfer_args a = { 0 };
	struct p2pbuf_rdma_client *c;
	uint64_t done = 0;
	const char **pos = a.pos;
	char now[32], msg[512];
	int ret, fd;
	uint8_t *mem;
	void *map;
	double start, took;

	ret = xfer_args(argc, argv, &a, write);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
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
	 * MiB would be. Its requester (--passive: this side's RDMA READ
	 * and WRITE) copies with the same rxe_mr_copy().
	 */
	map = mmap(NULL, a.len + RXE_SKEW, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		close(fd);
		return cli_error(EXIT_FAILED, ret, "%s", strerror(-ret));
	}
	mem = (uint8_t *)map + RXE_SKEW;
	if (write) {
		ret = file_io(fd, mem, a.len, 0);
		if (ret) {
			munmap(map, a.len + RXE_SKEW);
			close(fd);
			return cli_error(EXIT_FAILED, ret, "%s: %s", pos[3],
					 ret == -ENODATA ? "shorter than LENGTH" :
					 strerror(-ret));
		}
	}
	ret = p2pbuf_rdma_connect(a.host, a.port, 0, &c);
	if (ret) {
		munmap(map, a.len + RXE_SKEW);
		close(fd);
		return cli_error(EXIT_FAILED, ret, "cannot connect to %s: %s",
				 pos[0], strerror(-ret));
	}
	pr.tty = isatty(STDERR_FILENO) && !a.o.json;
	x.op = write ? P2PBUF_RDMA_OP_WRITE : P2PBUF_RDMA_OP_READ;
	x.local = mem;
	x.offset = a.off;
	x.length = a.len;
	x.progress = show_progress;
	x.progress_arg = &pr;
	start = seconds();
	ret = move_range(c, &a, &x, &done, msg, sizeof(msg));
	took = seconds() - start;
	p2pbuf_rdma_disconnect(c);
	if (pr.tty && done)
		fprintf(stderr, "\n");
	if (!write && !ret) {
		ret = file_io(fd, mem, a.len, 1);
		if (!ret && fsync(fd) && errno != EINVAL)
			ret = -errno;
		if (ret)
			snprintf(msg, sizeof(msg), "%s: %s", pos[3],
				 strerror(-ret));
	}
	munmap(map, a.len + RXE_SKEW);
	close(fd);
	if (a.o.json) {
		printf("{\"command\":\"%s\",\"peer\":", cmd);
		cli_json_string(stdout, pos[0]);
		printf(",\"mode\":\"%s\",\"offset\":%llu,\"length\":%llu,\"done\":%llu,\"seconds\":%.6f,\"file\":",
		       a.o.passive ? "passive" : "active",
		       (unsigned long long)a.off, (unsigned long long)a.len,
		       (unsigned long long)done, took);
		cli_json_string(stdout, pos[3]);
		printf(",\"ok\":%s", ret ? "false" : "true");
		if (ret) {
			printf(",\"error\":");
			cli_json_string(stdout, msg);
			printf(",\"errno\":%d", -ret);
		}
		printf("}\n");
		return ret ? EXIT_FAILED : EXIT_OK;
	}
	if (ret)
		return cli_error(EXIT_FAILED, ret, "%s %s at %llu: %s", cmd,
				 pos[0], (unsigned long long)a.off, msg);
	cli_human_size(done, now, sizeof(now));
	printf("%s %s %s %s at %llu in %.3f s%s\n", write ? "wrote" : "read",
	       now, write ? "to" : "from", pos[0], (unsigned long long)a.off,
	       took, a.o.passive ? " (passive)" : "");
	return EXIT_OK;
}

#else

int cmd_serve(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *ref = NULL;
	int ret;

	ret = serve_args(argc, argv, &o, &ref);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	return cli_error(EXIT_UNAVAILABLE, ENOSYS,
			 "built without librdmacm (libp2pbuf-rdma)");
}

static int rdma_xfer_cmd(int argc, char **argv, int write)
{
	struct xfer_args a = { 0 };
	int ret;

	ret = xfer_args(argc, argv, &a, write);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
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
