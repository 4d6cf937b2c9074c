// SPDX-License-Identifier: MIT
/*
 * Unit tests: the p2pbuf tool as a user runs it, in this process
 * (cli_main(), stdout and stderr captured), for what needs no DRM device
 * or udmabuf: usage errors that name what is wrong, exit codes, --version,
 * help, --json error objects, getopt_long's forms, number parsing, ls of
 * every process, explain's exit codes against a made-up sysfs, topology
 * against a made-up probe directory, the words errors are said in, and
 * explain rdma:DEV PID:FD's reading of RDMA devices in a made-up sysfs and
 * its answers.
 * tests/guest/libp2pbuf-cli.sh checks the same and more on a real kernel.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"
#include "test.h"

static int rc;
static char out[16384], err[16384];

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/* p2pbuf ARGS...: exit code in rc, what it printed in out and err. */
static int run(const char *first, ...)
{
	char *argv[32];
	int argc = 0, o, e, so, se;
	const char *a;
	va_list ap;

	argv[argc++] = (char *)"p2pbuf";
	va_start(ap, first);
	for (a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	o = memfd_create("out", MFD_CLOEXEC);
	e = memfd_create("err", MFD_CLOEXEC);
	if (o < 0 || e < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	so = dup(STDOUT_FILENO);
	se = dup(STDERR_FILENO);
	dup2(o, STDOUT_FILENO);
	dup2(e, STDERR_FILENO);
	rc = cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	slurp(o, out, sizeof(out));
	slurp(e, err, sizeof(err));
	close(o);
	close(e);
	return 0;
}

#define CLI(...) CHECK_EQ(run(__VA_ARGS__, NULL), 0)
/* Exit @code, and @text in stderr, said in a line of its own (no usage). */
#define USAGE_ERR(text, ...) do {					\
	CLI(__VA_ARGS__);						\
	if (rc != 2 || !strstr(err, text) || strstr(err, "usage:") || out[0]) \
		fprintf(stderr, "    exit %d, stderr: %s", rc, err);	\
	CHECK_EQ(rc, 2);						\
	CHECK(strstr(err, text));					\
	CHECK(!strstr(err, "usage:"));					\
	CHECK(!out[0]);							\
} while (0)

static const char *const commands[] = {
	"info", "topology", "explain", "alloc", "fill", "verify", "share",
	"attach", "read", "write", "ls", "serve", "rdma-read", "rdma-write",
};

static int version_and_help(void)
{
	char want[64];

	/* The tool's version is the library's: 1.0.0, libp2pbuf 1.0. */
	snprintf(want, sizeof(want), "p2pbuf %d.%d.0 (libp2pbuf %d.%d)\n",
		 P2PBUF_VERSION_MAJOR, P2PBUF_VERSION_MINOR,
		 P2PBUF_VERSION_MAJOR, P2PBUF_VERSION_MINOR);
	CHECK(!strcmp(want, "p2pbuf 1.0.0 (libp2pbuf 1.0)\n"));
	CLI("--version");
	CHECK_EQ(rc, 0);
	CHECK(!strcmp(out, want));
	CLI("ls", "--version");
	CHECK_EQ(rc, 0);
	CHECK(!strcmp(out, want));
	CLI("help");
	CHECK_EQ(rc, 0);
	CHECK(!strncmp(out, "usage: p2pbuf COMMAND", 21));
	CLI("--help");
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "  topology "));
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		char usage[64];

		snprintf(usage, sizeof(usage), "usage: p2pbuf %s", commands[i]);
		CLI("help", commands[i]);
		CHECK_EQ(rc, 0);
		CHECK(!strncmp(out, usage, strlen(usage)));
		CLI(commands[i], "--help");
		CHECK_EQ(rc, 0);
		CHECK(!strncmp(out, usage, strlen(usage)));
		CLI(commands[i], "-h");
		CHECK_EQ(rc, 0);
	}
	/* The RDMA commands' help names --passive. */
	CLI("serve", "--help");
	CHECK_EQ(rc, 0);
	CHECK(!strncmp(out, "usage: p2pbuf serve PID:FD --port N", 35));
	CHECK(strstr(out, "[--passive]"));
	CLI("help", "rdma-write");
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "usage: p2pbuf rdma-write HOST:PORT OFFSET LENGTH FILE [--passive]"));
	CHECK(strstr(out, "p2pbuf rdma-read HOST:PORT OFFSET LENGTH FILE [--passive]"));
#ifndef P2PBUF_HAVE_RDMACM
	/* Built without librdmacm: a good command line, then exit 3. */
	CLI("serve", "1:2", "--port", "7471", "--passive");
	CHECK_EQ(rc, 3);
	CHECK(strstr(err, "built without librdmacm"));
	CLI("rdma-write", "host:7471", "0", "4K", "f", "--passive");
	CHECK_EQ(rc, 3);
#endif
	USAGE_ERR("unknown command 'nosuch'", "help", "nosuch");
	CHECK_EQ(run(NULL), 0);
	CHECK_EQ(rc, 2);
	CHECK(strstr(err, "p2pbuf: missing COMMAND\nTry 'p2pbuf help'.\n"));
	return 0;
}

/* Every command: exit 2, the wrong argument named, not the usage text. */
static int usage_errors(void)
{
	char pidmax[32];

	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		USAGE_ERR("unknown option '--no-such-option'", commands[i],
			  "--no-such-option");
		USAGE_ERR("unknown option '-q'", commands[i], "-q");
		CHECK(strstr(err, "Try 'p2pbuf "));
	}
	USAGE_ERR("unknown command 'bogus'", "bogus");
	USAGE_ERR("unknown option '--json'", "--json", "ls");
	USAGE_ERR("missing --size SIZE", "alloc");
	USAGE_ERR("bad value '0' for --size", "alloc", "--size=0");
	USAGE_ERR("bad value '4X' for --size", "alloc", "--size", "4X");
	USAGE_ERR("--size needs a value", "alloc", "--size");
	USAGE_ERR("unknown option '--siz' (did you mean --size?)", "alloc",
		  "--siz", "4K");
	USAGE_ERR("--hold takes no value", "alloc", "--size", "4K", "--hold=1");
	USAGE_ERR("unknown option '--count'", "alloc", "--size", "4K", "--count", "2");
	USAGE_ERR("--placement vram needs --device", "alloc", "--size", "4K",
		  "--placement", "vram");
	USAGE_ERR("bad value 'gpu' for --placement", "alloc", "--size", "4K",
		  "--placement=gpu");
	USAGE_ERR("unexpected argument 'x'", "alloc", "--size", "4K", "x");
	USAGE_ERR("missing PID:FD", "fill", "--pattern", "1");
	USAGE_ERR("missing --pattern SEED", "verify", "1:2");
	USAGE_ERR("'x' is not PID:FD", "fill", "x", "--pattern", "1");
	USAGE_ERR("'0:1' is not PID:FD", "verify", "0:1", "--pattern", "1");
	USAGE_ERR("bad value '-1' for --pattern", "fill", "1:2", "--pattern", "-1");
	USAGE_ERR("missing SOCKET", "share", "--size", "4K");
	USAGE_ERR("missing --size SIZE", "share", "/tmp/p2pbuf-test-sock");
	USAGE_ERR("bad value '33' for --count", "share", "S", "--size", "4K",
		  "--count", "33");
	USAGE_ERR("missing SOCKET", "attach");
	USAGE_ERR("missing PROVIDER", "explain");
	USAGE_ERR("missing PEER", "explain", "00:00.0");
	USAGE_ERR("PEER 'zz' is not a PCI address", "explain", "00:00.0", "zz");
	USAGE_ERR("bad value 'none' for --importer", "explain", "00:00.0",
		  "00:01.0", "--importer", "none");
	USAGE_ERR("--compat is for explain FILE PID:FD", "explain", "00:00.0",
		  "00:01.0", "--compat");
	USAGE_ERR("missing PID:FD after rdma:mlx5_0", "explain", "rdma:mlx5_0");
	USAGE_ERR("'rdma:' is not rdma:DEV", "explain", "rdma:", "1:2");
	USAGE_ERR("'rdma:a/b' is not rdma:DEV", "explain", "1:2", "rdma:a/b");
	USAGE_ERR("'00:01.0' is not PID:FD", "explain", "rdma:mlx5_0", "00:01.0");
	USAGE_ERR("explain rdma:DEV PID:FD takes only --json", "explain",
		  "rdma:mlx5_0", "1:2", "--importer", "p2p");
	USAGE_ERR("explain rdma:DEV PID:FD takes only --json", "explain",
		  "rdma:mlx5_0", "1:2", "--compat");
	USAGE_ERR("--sysfs-root is for explain rdma:DEV PID:FD", "explain",
		  "00:00.0", "00:01.0", "--sysfs-root", "/sys");
	USAGE_ERR("bad value '' for --sysfs-root", "explain", "rdma:mlx5_0",
		  "1:2", "--sysfs-root=");
	USAGE_ERR("missing FILE", "read");
	USAGE_ERR("missing PID:FD", "write", "/dev/null");
	USAGE_ERR("--compat and --no-compat exclude each other", "read",
		  "/dev/null", "1:2", "--compat", "--no-compat");
	USAGE_ERR("bad value '0' for --length", "read", "/dev/null", "1:2",
		  "--length", "0");
	/* serve, rdma-read, rdma-write (the same with and without librdmacm). */
	USAGE_ERR("missing PID:FD", "serve", "--port", "7471", "--passive");
	USAGE_ERR("missing --port", "serve", "1:2", "--passive");
	USAGE_ERR("bad value '0' for --port", "serve", "1:2", "--port", "0");
	USAGE_ERR("--passive takes no value ('--passive=yes')", "serve", "1:2",
		  "--port", "7471", "--passive=yes");
	USAGE_ERR("unknown option '--passiv' (did you mean --passive?)",
		  "serve", "1:2", "--port", "7471", "--passiv");
	USAGE_ERR("unexpected argument '3:4'", "serve", "1:2", "3:4", "--passive");
	USAGE_ERR("unknown option '--passive'", "alloc", "--size", "4K",
		  "--passive");
	USAGE_ERR("missing HOST:PORT", "rdma-read", "--passive");
	USAGE_ERR("missing FILE", "rdma-write", "host:7471", "0", "4K",
		  "--passive");
	USAGE_ERR("'host' is not HOST:PORT", "rdma-read", "host", "0", "4K",
		  "f", "--passive");
	USAGE_ERR("'host:0' is not HOST:PORT", "rdma-read", "host:0", "0", "4K",
		  "f");
	USAGE_ERR("OFFSET 'x' is not a size", "rdma-write", "--passive",
		  "host:7471", "x", "4K", "f");
	USAGE_ERR("LENGTH '0' is not a size above 0", "rdma-read", "host:7471",
		  "0", "0", "f", "--passive");
	USAGE_ERR("--passive takes no value ('--passive=1')", "rdma-read",
		  "host:7471", "0", "4K", "f", "--passive=1");
	USAGE_ERR("unknown option '--port'", "rdma-write", "host:7471", "0",
		  "4K", "f", "--passive", "--port", "1");
	USAGE_ERR("unexpected argument 'g'", "rdma-read", "host:7471", "0",
		  "4K", "f", "g", "--passive");
	USAGE_ERR("unexpected argument '2'", "ls", "1", "2");
	USAGE_ERR("'abc' is not a process id", "ls", "abc");
	USAGE_ERR("'0' is not a process id", "ls", "0");
	USAGE_ERR("unexpected argument 'x'", "topology", "x");
	USAGE_ERR("--probe-dir needs a value", "topology", "--probe-dir");
	USAGE_ERR("unexpected argument 'x'", "info", "x");
	/* A number past what a pid can be, or negative after "--". */
	snprintf(pidmax, sizeof(pidmax), "%llu", 0x80000000ull);
	USAGE_ERR("is not a process id", "ls", pidmax);
	USAGE_ERR("'-5' is not a process id", "ls", "--", "-5");
	return 0;
}

/*
 * pidfd_getfd() works here (not under valgrind, which does not know it,
 * nor in some containers)? Else the tool must say so: exit 3, in words.
 */
static int have_pidfd_getfd(void)
{
	int fd = -1, ret;

	ret = p2pbuf_pidfd_getfd(getpid(), STDERR_FILENO, P2PBUF_XFER_ANY_FD, &fd);
	if (!ret)
		close(fd);
	if (ret == -ENOSYS || ret == -EPERM)
		fprintf(stderr, "    pidfd_getfd unavailable (%s)\n", strerror(-ret));
	return ret != -ENOSYS && ret != -EPERM;
}

/* Where pidfd_getfd() is missing, taking @ref says so: exit 3. */
static int no_pidfd_getfd(const char *ref)
{
	CLI("verify", ref, "--pattern", "1");
	CHECK_EQ(rc, 3);
	CHECK(strstr(err, "this kernel has no pidfd_getfd()") ||
	      strstr(err, "needs ptrace rights"));
	return 0;
}

/* --json: a failure is one JSON object on stdout as well. */
static int json_errors(void)
{
	char ref[32];

	CLI("fill", "1:2", "--json");
	CHECK_EQ(rc, 2);
	CHECK(!strcmp(out, "{\"command\":\"fill\",\"ok\":false,\"exit\":2,\"error\":\"missing --pattern SEED\"}\n"));
	/* Before the parser reaches --json, and for an unknown option. */
	CLI("ls", "--bogus", "--json");
	CHECK_EQ(rc, 2);
	CHECK(!strcmp(out, "{\"command\":\"ls\",\"ok\":false,\"exit\":2,\"error\":\"unknown option '--bogus'\"}\n"));
	/* Quotes in the message are escaped. */
	CLI("ls", "a\"b", "--json");
	CHECK_EQ(rc, 2);
	CHECK(strstr(out, "\"error\":\"'a\\\"b' is not a process id"));
	/* Not after "--": that is an argument. */
	CLI("ls", "--", "--json");
	CHECK_EQ(rc, 2);
	CHECK(!out[0]);
	/* A process that cannot exist: exit 3, errno ESRCH. */
	snprintf(ref, sizeof(ref), "%d:3", 0x7fffffff);
	if (have_pidfd_getfd()) {
		CLI("verify", ref, "--pattern", "1", "--json");
		CHECK_EQ(rc, 3);
		CHECK(strstr(out, "\"ok\":false,\"exit\":3,\"error\":\"cannot take 2147483647:3: no such process\",\"errno\":3}\n"));
		CHECK(strstr(err, "p2pbuf verify: cannot take 2147483647:3: no such process\n"));
	} else {
		CHECK_EQ(no_pidfd_getfd(ref), 0);
	}
	CLI("topology", "--probe-dir=/nonexistent/p2pbuf", "--json");
	CHECK_EQ(rc, 3);
	CHECK(!strncmp(out, "{\"command\":\"topology\",\"ok\":false,\"exit\":3,", 41));
	/* Without --json: nothing on stdout. */
	CLI("topology", "--probe-dir", "/nonexistent/p2pbuf");
	CHECK_EQ(rc, 3);
	CHECK(!out[0]);
	CHECK(strstr(err, "p2pbuf_probe"));
	return 0;
}

/* The words for taking a buffer, on this process's own descriptors. */
static int take_words(void)
{
	char ref[32];
	int fd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);

	CHECK(fd >= 0);
	snprintf(ref, sizeof(ref), "%d:%d", (int)getpid(), fd);
	if (!have_pidfd_getfd()) {
		CHECK_EQ(no_pidfd_getfd(ref), 0);
		close(fd);
		return 0;
	}
	CLI("verify", ref, "--pattern", "1");
	CHECK_EQ(rc, 1);
	CHECK(strstr(err, ": not a dma-buf\n"));
	snprintf(ref, sizeof(ref), "%d:%d", (int)getpid(), 9999);
	CLI("fill", ref, "--pattern", "1");
	CHECK_EQ(rc, 3);
	CHECK(strstr(err, ": the process has no such descriptor\n"));
	/* Decimal: 0x hexadecimal works, a leading zero is no octal. */
	snprintf(ref, sizeof(ref), "0x%x:0%d", (unsigned int)getpid(), fd);
	CLI("verify", ref, "--pattern", "010");
	CHECK_EQ(rc, 1);
	CHECK(strstr(err, ": not a dma-buf\n"));
	close(fd);
	return 0;
}

static int ls(void)
{
	char pid[32];

	/* Every process this user may read: one object, counts in it. */
	CLI("ls", "--json");
	CHECK_EQ(rc, 0);
	CHECK(!strncmp(out, "{\"dmabufs\":[", 12));
	CHECK(strstr(out, "],\"processes\":"));
	CHECK(strstr(out, ",\"unreadable\":"));
	CLI("ls");
	CHECK_EQ(rc, 0);
	/* This process, by pid, in decimal and in hexadecimal. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	CLI("ls", pid, "--json");
	CHECK_EQ(rc, 0);
	CHECK(!strncmp(out, "{\"pid\":", 7) && strstr(out, "\"dmabufs\":[]}"));
	snprintf(pid, sizeof(pid), "0x%x", (unsigned int)getpid());
	CLI("ls", "--json", "--", pid);
	CHECK_EQ(rc, 0);
	/* A process that is not there: 3. */
	CLI("ls", "2147483647");
	CHECK_EQ(rc, 3);
	CHECK(strstr(err, "process 2147483647: no such process"));
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* explain's exit codes: 2 malformed, 3 not there, 0 an answer. */
static int explain_codes(void)
{
	char dir[] = "/tmp/p2pbuf-test-cli.XXXXXX", sysfs[64], path[128];
	char none[64];

	CHECK(mkdtemp(dir));
	snprintf(sysfs, sizeof(sysfs), "--sysfs=%s", dir);
	snprintf(none, sizeof(none), "--probe-dir=%s/none", dir);
	snprintf(path, sizeof(path), "%s/0000:00:01.0", dir);
	CHECK_EQ(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/0000:00:02.0", dir);
	CHECK_EQ(mkdir(path, 0755), 0);

	CLI("explain", "00:01.0", "00:02.0", sysfs, none,
	    "--kernel-config=/dev/null", "--json");
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"map\":\"none\""));
	/* A PEER or a PROVIDER that is not there: 3, and which one. */
	CLI("explain", "00:01.0", "00:03.0", sysfs, none, "--json");
	CHECK_EQ(rc, 3);
	CHECK(strstr(out, "\"exit\":3,\"error\":\"PEER 00:03.0: no such PCI device\""));
	CLI("explain", "0000:00:03.0", "00:02.0", sysfs, none);
	CHECK_EQ(rc, 3);
	CHECK(strstr(err, "PROVIDER 0000:00:03.0: no such PCI device"));
	/* A DRM device that is not there: 3 too. */
	CLI("explain", "no-such-driver", "00:02.0", sysfs, none);
	CHECK_EQ(rc, 3);
	CHECK(strstr(err, "PROVIDER no-such-driver: no such device"));
	/* A buffer of a process that is not there: 3. */
	CLI("explain", "2147483647:3", "00:02.0", sysfs, none);
	CHECK_EQ(rc, 3);
	/* Malformed: 2, whether or not the other one exists. */
	USAGE_ERR("PEER 'zz' is not a PCI address", "explain", "00:01.0", "zz", sysfs);
	USAGE_ERR("PEER '00:1:0' is not a PCI address", "explain", "no-such-driver",
		  "00:1:0", sysfs);
	/* explain FILE PID:FD takes its own options only. */
	snprintf(path, sizeof(path), "%s/file", dir);
	CHECK_EQ(write_file(path, "x"), 0);
	USAGE_ERR("takes only --compat and --json", "explain", path, "1:2",
		  "--importer", "static");
	USAGE_ERR("missing PID:FD after FILE", "explain", path);
	unlink(path);
	snprintf(path, sizeof(path), "%s/0000:00:01.0", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/0000:00:02.0", dir);
	rmdir(path);
	rmdir(dir);
	return 0;
}

/* ---- explain rdma:DEV PID:FD against a made-up sysfs ---- */

static char rroot[64];

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* ROOT/@rel, made as a directory with its parents. */
static int rdir(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", rroot, rel);
	return mkdirs(path);
}

/* ROOT/@rel with the line @text (parents made). */
static int rfile(const char *rel, const char *text)
{
	char path[PATH_MAX], dir[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "%s/%s", rroot, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (mkdirs(dir))
		return -1;
	return write_file(path, text);
}

/* ROOT/@rel -> ROOT/@target (both made as needed). */
static int rlink(const char *rel, const char *target)
{
	char path[PATH_MAX], to[PATH_MAX], dir[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "%s/%s", rroot, rel);
	snprintf(to, sizeof(to), "%s/%s", rroot, target);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (mkdirs(dir) || mkdirs(to))
		return -1;
	return symlink(to, path);
}

#define NIC "devices/pci0000:00/0000:00:02.0/0000:01:00.0"
#define HCA "devices/pci0000:00/0000:00:03.0/0000:05:00.0"

/*
 * A virtio-net NIC (eth0, PCI 0000:01:00.0) with rxe0 and siw0 on it, rxe
 * on lo, an mlx5 HCA (0000:05:00.0), an HCA that is a platform device,
 * and p2pbuf_rdma loaded.
 */
static int rdma_sysfs(void)
{
	snprintf(rroot, sizeof(rroot), "/tmp/p2pbuf-test-rdma.XXXXXX");
	if (!mkdtemp(rroot))
		return -1;
	return rlink("bus/pci/devices/0000:00:02.0", "devices/pci0000:00/0000:00:02.0") ||
	       rlink("bus/pci/devices/0000:01:00.0", NIC) ||
	       rlink("bus/pci/devices/0000:05:00.0", HCA) ||
	       rlink("class/net/eth0/device", NIC "/virtio0") ||
	       rfile("class/net/eth0/address", "52:54:00:12:34:56\n") ||
	       rfile("class/net/lo/address", "00:00:00:00:00:00\n") ||
	       rfile("class/infiniband/rxe0/node_type", "1: CA\n") ||
	       rfile("class/infiniband/rxe0/parent", "eth0\n") ||
	       rfile("class/infiniband/rxe0/ports/1/gid_attrs/ndevs/0", "eth0\n") ||
	       rfile("class/infiniband/rxe_lo/node_type", "1: CA\n") ||
	       rfile("class/infiniband/rxe_lo/parent", "lo\n") ||
	       rfile("class/infiniband/siw0/node_type", "4: RNIC\n") ||
	       rfile("class/infiniband/siw0/ports/1/gids/0",
		     "5254:0012:3456:0000:0000:0000:0000:0000\n") ||
	       rfile("class/infiniband/mlx5_0/node_type", "1: CA\n") ||
	       rlink("class/infiniband/mlx5_0/device", HCA) ||
	       rlink(HCA "/driver", "bus/pci/drivers/mlx5_core") ||
	       rlink("class/infiniband/hns_0/device", "devices/platform/hns0") ||
	       rlink("devices/platform/hns0/driver", "bus/platform/drivers/hns") ||
	       rdir("module/p2pbuf_rdma") ? -1 : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rdma_sysfs_remove(void)
{
	if (rroot[0])
		nftw(rroot, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	rroot[0] = '\0';
}

static int rdma_devices(void)
{
	struct cli_rdma_device d;
	const char *name = NULL;
	int ret = 1;

	CHECK_EQ(cli_rdma_name("rdma:mlx5_0", &name), 0);
	CHECK(!strcmp(name, "mlx5_0"));
	CHECK_EQ(cli_rdma_name("mlx5_0", &name), -ENOENT);
	CHECK_EQ(cli_rdma_name("rdma:", &name), -EINVAL);
	CHECK_EQ(cli_rdma_name("rdma:a/b", &name), -EINVAL);
	CHECK_EQ(cli_rdma_name("rdma:..", &name), -EINVAL);
	CHECK_EQ(cli_rdma_name("rdma:a b", &name), -EINVAL);
	CHECK_EQ(cli_rdma_name("rdma:0123456789012345678901234567890123456789012345678901234567890123", &name), -EINVAL);
	CHECK_EQ(rdma_sysfs(), 0);

	/* rxe: no parent device; its netdev's PCI function. */
	if (cli_rdma_device(rroot, "rxe0", &d) || !d.software || d.dma_device ||
	    strcmp(d.driver, "rxe") || strcmp(d.netdev, "eth0") ||
	    strcmp(d.pci, "0000:01:00.0") || d.dmabuf_mr != 0 ||
	    !d.module_loaded || strcmp(d.node_type, "1: CA"))
		goto out;
	/* rxe on lo: a netdev, no PCI function. */
	if (cli_rdma_device(rroot, "rxe_lo", &d) || !d.software ||
	    strcmp(d.netdev, "lo") || d.pci[0])
		goto out;
	/* siw: its netdev found by the MAC address in GID 0. */
	if (cli_rdma_device(rroot, "siw0", &d) || !d.software ||
	    strcmp(d.driver, "siw") || strcmp(d.netdev, "eth0") ||
	    strcmp(d.pci, "0000:01:00.0") || d.dmabuf_mr != 0)
		goto out;
	/* An HCA: its own function, its driver; mlx5 takes dma-buf MRs. */
	if (cli_rdma_device(rroot, "mlx5_0", &d) || d.software ||
	    !d.dma_device || strcmp(d.driver, "mlx5_core") ||
	    strcmp(d.pci, "0000:05:00.0") || d.dmabuf_mr != 1 || d.netdev[0])
		goto out;
	/* A DMA device that is no PCI function. */
	if (cli_rdma_device(rroot, "hns_0", &d) || d.software ||
	    strcmp(d.driver, "hns") || d.pci[0])
		goto out;
	if (cli_rdma_device(rroot, "nosuch", &d) != -ENODEV)
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "    %s: driver '%s' netdev '%s' pci '%s' software %d mr %d\n",
			d.name, d.driver, d.netdev, d.pci, d.software, d.dmabuf_mr);
	rdma_sysfs_remove();
	return ret;
}

/* The exporter's answer, made up. */
static void made_up(struct p2pbuf_explanation *e, int map, const char *reason)
{
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
	e->map = map;
	snprintf(e->reason_code, sizeof(e->reason_code), "%s", reason);
	snprintf(e->text, sizeof(e->text), "made-up %s", reason);
}

static int rdma_answers(void)
{
	struct cli_rdma_device rxe = { .name = "rxe0", .driver = "rxe",
		.netdev = "eth0", .pci = "0000:01:00.0", .software = 1 };
	struct cli_rdma_device lo = { .name = "rxe_lo", .driver = "rxe",
		.netdev = "lo", .software = 1 };
	struct cli_rdma_device mlx5 = { .name = "mlx5_0", .driver = "mlx5_core",
		.pci = "0000:05:00.0", .dma_device = 1, .dmabuf_mr = 1 };
	struct cli_rdma_device hns = { .name = "hns_0", .driver = "hns",
		.dma_device = 1 };
	struct p2pbuf_explanation e;
	struct cli_rdma_answer a;

	/* rxe: the CPU copies, from VRAM where the NIC's function reaches it. */
	made_up(&e, P2PBUF_MAP_BUS_ADDRESS, "-");
	cli_rdma_decide(&rxe, &e, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_CPU_COPY);
	CHECK(!strcmp(cli_rdma_path_name(a.path), "cpu-copy"));
	CHECK(!strcmp(a.reason, "software-device") && !strcmp(a.memory, "device"));
	CHECK(strstr(a.text, "eth0's PCI function 0000:01:00.0"));
	CHECK(strstr(a.text, "stays in VRAM"));
	made_up(&e, P2PBUF_MAP_NONE, "acs-redirect");
	cli_rdma_decide(&rxe, &e, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_CPU_COPY);
	CHECK(!strcmp(a.memory, "system") && strstr(a.text, "(acs-redirect)"));
	/* ... and cannot at all without a PCI function behind the netdev. */
	cli_rdma_decide(&lo, NULL, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_NONE);
	CHECK(!strcmp(a.reason, "no-pci-function"));
	CHECK(strstr(a.text, "netdev lo is not a PCI function"));

	/* An HCA: P2P by the NIC, or system memory, with the reason. */
	made_up(&e, P2PBUF_MAP_BUS_ADDRESS, "-");
	cli_rdma_decide(&mlx5, &e, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_P2P);
	CHECK(!strcmp(cli_rdma_path_name(a.path), "p2p") && !strcmp(a.memory, "device"));
	CHECK(strstr(a.text, "attaches the buffer for 0000:05:00.0 with peer2peer"));
	made_up(&e, P2PBUF_MAP_NONE, "host-bridge-not-whitelisted");
	cli_rdma_decide(&mlx5, &e, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_SYSTEM);
	CHECK(!strcmp(cli_rdma_path_name(a.path), "system-memory"));
	CHECK(!strcmp(a.reason, "host-bridge-not-whitelisted"));
	made_up(&e, P2PBUF_MAP_NONE, "in-system-memory");
	cli_rdma_decide(&mlx5, &e, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_SYSTEM);
	CHECK(!strcmp(a.reason, "in-system-memory") && !strcmp(a.memory, "system"));
	made_up(&e, P2PBUF_MAP_UNKNOWN, "no-kernel-verdict");
	cli_rdma_decide(&mlx5, &e, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_UNKNOWN);
	CHECK(!strcmp(a.memory, "unknown"));
	cli_rdma_decide(&hns, NULL, "0000:02:00.0", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_SYSTEM);
	CHECK(!strcmp(a.reason, "not-a-pci-device"));

	/* udmabuf gives the module no pages, whatever the device. */
	made_up(&e, P2PBUF_MAP_NONE, "in-system-memory");
	cli_rdma_decide(&mlx5, &e, "udmabuf", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_NONE);
	CHECK(!strcmp(a.reason, "exporter-without-pages"));
	CHECK(strstr(a.text, "ibv_reg_dmabuf_mr() on mlx5_0 registers it"));
	cli_rdma_decide(&rxe, &e, "udmabuf", &a);
	CHECK_EQ(a.path, CLI_RDMA_PATH_NONE);
	CHECK(!strstr(a.text, "ibv_reg_dmabuf_mr"));
	return 0;
}

/* The command: 2 malformed, 3 not there, 1 not a dma-buf. */
static int rdma_codes(void)
{
	char root[96], ref[32];
	int fd, ret = 1;

	CHECK_EQ(rdma_sysfs(), 0);
	snprintf(root, sizeof(root), "--sysfs-root=%s", rroot);
	CLI("explain", "rdma:nosuch", "1:2", root, "--json");
	if (rc != 3 || !strstr(out, "\"exit\":3,\"error\":\"RDMA device nosuch: no such device in "))
		goto out;
	/* Malformed beats missing: PID:FD is checked first. */
	CLI("explain", "rdma:nosuch", "x", root);
	if (rc != 2 || !strstr(err, "'x' is not PID:FD"))
		goto out;
	/* Either way round. */
	CLI("explain", "2147483647:3", "rdma:rxe0", root);
	if (rc != 3)
		goto out;
	fd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	if (fd < 0)
		goto out;
	snprintf(ref, sizeof(ref), "%d:%d", (int)getpid(), fd);
	CLI("explain", "rdma:rxe0", ref, root);
	close(fd);
	if (have_pidfd_getfd() ? rc != 1 || !strstr(err, ": not a dma-buf\n") :
	    rc != 3)
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "    exit %d, stdout: %s    stderr: %s", rc, out, err);
	rdma_sysfs_remove();
	return ret;
}

/* topology against a probe directory: "--opt=value", twice in a process. */
static int topology(void)
{
	char dir[] = "/tmp/p2pbuf-test-cli.XXXXXX", opt[64], path[128];

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/devices", dir);
	CHECK_EQ(write_file(path,
		"device=0000:01:00.0 id=1af4:1110 class=030000 provider=1 driver=p2pgem\n"
		"device=0000:02:00.0 id=8086:5845 class=010802 provider=0 driver=nvme\n"), 0);
	snprintf(path, sizeof(path), "%s/matrix", dir);
	CHECK_EQ(write_file(path,
		"provider=0000:01:00.0 client=0000:02:00.0 distance=4 map=bus-address dma=0x1000 reason=-\n"), 0);
	snprintf(opt, sizeof(opt), "--probe-dir=%s", dir);
	for (int i = 0; i < 2; i++) {
		CLI("topology", opt, "--json");
		CHECK_EQ(rc, 0);
		CHECK(strstr(out, "\"pairs\":[{\"provider\":\"0000:01:00.0\",\"client\":\"0000:02:00.0\",\"distance\":4,\"map\":\"bus-address\",\"dma\":4096,\"reason\":\"-\"}]}"));
	}
	CLI("topology", "--probe-dir", dir);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "vram 0000:01:00.0 (1af4:1110) provides P2P memory:"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/devices", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* share and attach: what is at SOCKET stays; errors in words. */
static int share_attach_words(void)
{
	char dir[] = "/tmp/p2pbuf-test-cli.XXXXXX", path[128];
	struct stat st;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	CHECK_EQ(write_file(path, "mine"), 0);
	CLI("share", path, "--size", "4K", "--json");
	/* Without udmabuf here, that is said first; else the file's words. */
	if (access("/dev/udmabuf", F_OK)) {
		CHECK_EQ(rc, 3);
		CHECK(strstr(err, "/dev/udmabuf: no /dev/udmabuf"));
	} else {
		CHECK_EQ(rc, 1);
		CHECK(strstr(err, "something is there already"));
	}
	CHECK(strstr(out, "\"ok\":false"));
	CHECK(!stat(path, &st) && S_ISREG(st.st_mode) && st.st_size == 4);
	/* attach: a file is nobody listening; a missing path no socket. */
	CLI("attach", path);
	CHECK_EQ(rc, 1);
	CHECK(strstr(err, "nobody is listening there"));
	unlink(path);
	CLI("attach", path);
	CHECK_EQ(rc, 1);
	CHECK(strstr(err, "no such socket (is 'p2pbuf share' running?)"));
	rmdir(dir);
	return 0;
}

static const struct test tests[] = {
	TEST(version_and_help),
	TEST(usage_errors),
	TEST(json_errors),
	TEST(take_words),
	TEST(ls),
	TEST(explain_codes),
	TEST(rdma_devices),
	TEST(rdma_answers),
	TEST(rdma_codes),
	TEST(topology),
	TEST(share_attach_words),
};

int main(void)
{
	return RUN("cli", tests);
}
