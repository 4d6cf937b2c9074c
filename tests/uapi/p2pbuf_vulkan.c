// SPDX-License-Identifier: MIT
/*
 * p2pbuf_vulkan: a p2pgem VRAM buffer in a real Vulkan driver (Mesa's
 * lavapipe, in the trixie root of tests/vulkan/build-root.sh).
 *
 *   p2pbuf_vulkan [--list | --run SUBTEST] -- VULKAN_COMMAND...
 *
 * This process is the exporter: it creates the buffer with p2pgem's uAPI
 * and checks every byte through p2pgem's own mapping or copy engine. The
 * Vulkan side, VULKAN_COMMAND (tests/vulkan/enter-root ROOT
 * tests/vulkan/vk-p2pbuf), gets a socket's descriptor number as its last
 * argument, receives the dma-buf with p2pbuf_recv() and does what it is
 * asked (tests/vulkan/vk_proto.h). Every subtest starts its own.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xf86drm.h>

#include <p2pbuf/p2pbuf.h>

#include "p2pgem_test_lib.h"
#include "../vulkan/vk_proto.h"

#define SIZE (1u << 20)

static char **vk_cmd;

struct peer {
	pid_t pid;
	int sock;
	unsigned int caps;
	int fd;			/* the p2pgem device */
	uint32_t handle;	/* the VRAM buffer object */
	int dmabuf;
	volatile uint32_t *map;	/* its p2pgem CPU mapping */
};

/* Ask the Vulkan side for @op with @seed: its status, why in t_reason. */
static int ask(struct peer *p, uint32_t op, uint64_t seed)
{
	struct vkp_msg m = { .op = op, .seed = seed };
	ssize_t len;

	if (send(p->sock, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m)) {
		snprintf(t_reason, sizeof(t_reason), "send op %u: %s", op,
			 strerror(errno));
		return -EPIPE;
	}
	len = recv(p->sock, &m, sizeof(m), 0);
	if (len != sizeof(m)) {
		snprintf(t_reason, sizeof(t_reason),
			 "op %u: no answer from the Vulkan side (%zd: %s)", op,
			 len, len < 0 ? strerror(errno) : "closed");
		return -EPIPE;
	}
	if (m.status)
		snprintf(t_reason, sizeof(t_reason), "op %u: %s (%s)", op,
			 m.text, strerror(-m.status));
	if (op == VKP_HELLO && !m.status)
		p->caps = m.flags;
	return m.status;
}

/* ask(), failing the subtest (t_reason says why) unless it answers 0. */
#define ASK(p, op, seed) do {						\
	if (ask(p, op, seed))						\
		return -1;						\
} while (0)

static void stop(struct peer *p)
{
	struct vkp_msg m = { .op = VKP_QUIT };
	int status;

	if (p->sock >= 0) {
		send(p->sock, &m, sizeof(m), MSG_NOSIGNAL);
		close(p->sock);
	}
	if (p->pid > 0)
		waitpid(p->pid, &status, 0);
	if (p->map)
		munmap((void *)p->map, SIZE);
	if (p->dmabuf >= 0)
		close(p->dmabuf);
	if (p->fd >= 0)
		close(p->fd);
}

/*
 * A VRAM buffer object exported as a dma-buf, a Vulkan process started
 * and the buffer handed to it with p2pbuf_send(). 0, SKIP or -1.
 */
static int start(struct peer *p)
{
	struct timeval tv = { .tv_sec = 300 };
	struct drm_p2pgem_gem_info info;
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	char arg[16];
	int sv[2], n, ret;

	memset(p, 0, sizeof(*p));
	p->sock = p->dmabuf = p->fd = -1;
	SKIP_UNLESS(vk_cmd, "no Vulkan command given (-- COMMAND...)");
	p->fd = p2p_open(0);
	SKIP_UNLESS(p->fd >= 0, "no p2pgem device");
	CHECK_RET(p2p_create(p->fd, SIZE, P2PGEM_PLACEMENT_VRAM,
			     P2PGEM_CREATE_CPU_ACCESS, &p->handle), 0);
	CHECK_RET(p2p_info(p->fd, p->handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_VRAM, "not in VRAM");
	p->map = p2p_map(p->fd, p->handle, SIZE);
	CHECK(p->map, "mapping the buffer object failed");
	p->dmabuf = export_bo(p->fd, p->handle);
	CHECK(p->dmabuf >= 0, "export: %s", strerror(-p->dmabuf));
	p2pbuf_dmabuf_set_name(p->dmabuf, "vulkan");

	CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
	      "socketpair: %s", strerror(errno));
	fflush(stdout);
	p->pid = fork();
	CHECK(p->pid >= 0, "fork: %s", strerror(errno));
	if (!p->pid) {
		char **argv;

		for (n = 0; vk_cmd[n]; n++)
			;
		argv = calloc(n + 2, sizeof(*argv));
		if (!argv)
			_exit(127);
		memcpy(argv, vk_cmd, n * sizeof(*argv));
		/* The child's end survives exec; the parent's does not. */
		fcntl(sv[1], F_SETFD, 0);
		snprintf(arg, sizeof(arg), "%d", sv[1]);
		argv[n] = arg;
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	close(sv[1]);
	p->sock = sv[0];
	setsockopt(p->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	ret = p2pbuf_meta_init(p->dmabuf, &meta);
	if (!ret) {
		strcpy(meta.name, "vulkan");
		meta.placement = P2PBUF_PLACEMENT_VRAM;
		ret = p2pbuf_send(p->sock, &p->dmabuf, &meta, 1, 0);
	}
	CHECK(!ret, "p2pbuf_send: %s", strerror(-ret));
	ret = ask(p, VKP_HELLO, 0);
	if (ret)
		return -1;
	printf("# Vulkan side: sync_fd semaphores %s, dma-buf export %s, storage buffer import %s\n",
	       p->caps & VKP_CAP_SYNC_FD ? "yes" : "no",
	       p->caps & VKP_CAP_EXPORT ? "yes" : "no",
	       p->caps & VKP_CAP_COMPUTE ? "yes" : "no");
	return 0;
}

/*
 * One Vulkan process serves every subtest (lavapipe's start is slow under
 * emulation): started before them, its socket and the device's descriptor
 * inherited by each subtest's fork. An error ends it, so the subtests
 * after a failure fail too.
 */
static struct peer peer = { .sock = -1, .dmabuf = -1, .fd = -1 };
static int peer_ret;
static char peer_reason[sizeof(t_reason)];

static int with_peer(int (*fn)(struct peer *p))
{
	if (peer_ret) {
		memcpy(t_reason, peer_reason, sizeof(t_reason));
		return peer_ret;
	}
	return fn(&peer);
}

static int check_bo(struct peer *p, uint64_t seed, const char *what)
{
	long bad = vkp_check(p->map, SIZE, seed);

	CHECK(bad < 0, "%s: byte %ld of the VRAM buffer is %#x, not seed %llu's %#x",
	      what, bad, p->map[bad / 4], (unsigned long long)seed,
	      vkp_word(seed, bad / 4, SIZE / 4));
	return 0;
}

static int placement(struct peer *p)
{
	struct drm_p2pgem_gem_info info;

	if (p2p_info(p->fd, p->handle, &info))
		return -1;
	return (int)info.placement;
}

/* Vulkan writes the imported buffer; p2pgem's mapping sees every byte. */
static int import_write_fn(struct peer *p)
{
	ASK(p, VKP_WRITE, 1);
	CHECK(placement(p) == P2PGEM_PLACEMENT_VRAM, "left VRAM");
	return check_bo(p, 1, "after the Vulkan write");
}

/*
 * A compute shader (tests/vulkan/fill.comp) writes the imported buffer,
 * bound as a storage buffer, one word per invocation; p2pgem's mapping
 * sees every word. The buffer is first filled with the complement of what
 * the shader writes, so a word it skips is seen too.
 */
static int import_compute_fn(struct peer *p)
{
	uint32_t i, seed = 4;
	long bad;

	CHECK(p->caps & VKP_CAP_COMPUTE,
	      "the Vulkan driver cannot import the dma-buf as a storage buffer (%s)",
	      "VK_BUFFER_USAGE_STORAGE_BUFFER_BIT not importable");
	for (i = 0; i < SIZE / 4; i++)
		p->map[i] = ~vkp_cword(seed, i);
	ASK(p, VKP_COMPUTE, seed);
	CHECK(placement(p) == P2PGEM_PLACEMENT_VRAM, "left VRAM");
	bad = vkp_check_compute(p->map, SIZE, seed);
	CHECK(bad < 0, "compute shader: byte %ld of the VRAM buffer is %#x, not %#x",
	      bad, p->map[bad / 4], vkp_cword(seed, (uint32_t)(bad / 4)));
	return 0;
}

/* p2pgem's mapping writes; Vulkan copies it out and sees every byte. */
static int import_read_fn(struct peer *p)
{
	vkp_fill_data(p->map, SIZE, 2);
	ASK(p, VKP_READ, 2);
	/* And again after a Vulkan write, the other way round. */
	ASK(p, VKP_WRITE, 3);
	ASK(p, VKP_READ, 3);
	return check_bo(p, 3, "after write and read");
}

/*
 * Implicit sync both ways, with no CPU wait in between: p2pgem's copy
 * engine writes the buffer, and Vulkan's read waits for that write's
 * fence (DMA_BUF_IOCTL_EXPORT_SYNC_FILE -> SYNC_FD semaphore); Vulkan
 * writes it, its fence goes into the dma-buf (SYNC_FD semaphore ->
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE), and p2pgem's copy out of it waits.
 */
static int implicit_sync_fn(struct peer *p)
{
	volatile uint32_t *smap;
	uint32_t sys;
	int i;

	SKIP_UNLESS(p->caps & VKP_CAP_SYNC_FD,
		    "the Vulkan driver has no SYNC_FD semaphores");
	CHECK_RET(p2p_create(p->fd, SIZE, P2PGEM_PLACEMENT_SYSTEM, 0, &sys), 0);
	smap = p2p_map(p->fd, sys, SIZE);
	CHECK(smap, "mapping the system buffer failed");
	for (i = 0; i < 4; i++) {
		uint64_t in = 10 + 2 * i, out = 11 + 2 * i;

		/* p2pgem writes VRAM (queued), Vulkan reads after its fence. */
		vkp_fill_data(smap, SIZE, in);
		CHECK_RET(p2p_copy(p->fd, sys, 0, p->handle, 0, SIZE), 0);
		ASK(p, VKP_READ_SYNC, in);
		/* Vulkan writes, p2pgem's copy out waits for its fence. */
		ASK(p, VKP_WRITE_SYNC, out);
		CHECK_RET(p2p_copy(p->fd, p->handle, 0, sys, 0, SIZE), 0);
		CHECK_RET(p2p_wait(p->fd, sys, 10ll * 1000000000), 0);
		CHECK(vkp_check(smap, SIZE, out) < 0,
		      "round %d: the copy out ran before Vulkan's write", i);
	}
	munmap((void *)smap, SIZE);
	p2p_close_bo(p->fd, sys);
	return 0;
}

/*
 * Vulkan's memory exported as a dma-buf, imported into p2pgem and copied
 * into VRAM by its copy engine.
 */
static int export_fn(struct peer *p)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	uint32_t h, dst;
	volatile uint32_t *dmap;
	unsigned int n;
	int fd, ret;

	SKIP_UNLESS(p->caps & VKP_CAP_EXPORT,
		    "the Vulkan driver cannot export memory as a dma-buf");
	ASK(p, VKP_EXPORT, 20);
	ret = p2pbuf_recv(p->sock, &fd, &meta, 1, &n, 0);
	CHECK(!ret, "p2pbuf_recv: %s", strerror(-ret));
	CHECK(meta.buf_size >= SIZE, "exported %llu bytes, not %u",
	      (unsigned long long)meta.buf_size, SIZE);
	CHECK(!drmPrimeFDToHandle(p->fd, fd, &h), "PRIME import of Vulkan's dma-buf: %s",
	      strerror(errno));
	CHECK_RET(p2p_create(p->fd, SIZE, P2PGEM_PLACEMENT_VRAM,
			     P2PGEM_CREATE_CPU_ACCESS, &dst), 0);
	CHECK_RET(p2p_copy(p->fd, h, 0, dst, 0, SIZE), 0);
	CHECK_RET(p2p_wait(p->fd, dst, 10ll * 1000000000), 0);
	dmap = p2p_map(p->fd, dst, SIZE);
	CHECK(dmap, "mapping the copy failed");
	CHECK(vkp_check(dmap, SIZE, 20) < 0, "the VRAM copy of Vulkan's memory differs");
	munmap((void *)dmap, SIZE);
	p2p_close_bo(p->fd, dst);
	p2p_close_bo(p->fd, h);
	close(fd);
	return 0;
}

/* Evict to system memory (and wait for the move). */
static int evict(struct peer *p)
{
	CHECK_RET(p2p_evict(p->fd, p->handle), 0);
	CHECK_RET(p2p_wait(p->fd, p->handle, 10ll * 1000000000), 0);
	CHECK(placement(p) == P2PGEM_PLACEMENT_SYSTEM, "still in VRAM after eviction");
	return 0;
}

/*
 * Eviction while Vulkan holds the import: lavapipe maps the dma-buf for
 * the CPU (its "device" is the CPU); the move zaps that mapping and its
 * next access faults the buffer object back into VRAM.
 */
static int eviction_fn(struct peer *p)
{
	struct drm_p2pgem_gem_info info;
	uint64_t moves;
	int ret;

	ASK(p, VKP_WRITE, 30);
	CHECK_RET(p2p_info(p->fd, p->handle, &info), 0);
	moves = info.move_count;
	ret = evict(p);
	if (ret)
		return ret;
	/* Vulkan reads what it wrote before the move. */
	ASK(p, VKP_READ, 30);
	ret = evict(p);
	if (ret)
		return ret;
	/* And writes while evicted. */
	ASK(p, VKP_WRITE, 31);
	ret = check_bo(p, 31, "written by Vulkan after eviction");
	if (ret)
		return ret;
	ASK(p, VKP_READ, 31);
	CHECK_RET(p2p_info(p->fd, p->handle, &info), 0);
	CHECK(info.move_count >= moves + 2, "%llu moves, want at least %llu",
	      (unsigned long long)info.move_count, (unsigned long long)moves + 2);
	printf("# after two evictions and Vulkan's accesses: %s, %llu moves\n",
	       info.placement == P2PGEM_PLACEMENT_VRAM ? "VRAM" : "system memory",
	       (unsigned long long)(info.move_count - moves));
	return 0;
}

static int import_write(void) { return with_peer(import_write_fn); }
static int import_compute(void) { return with_peer(import_compute_fn); }
static int import_read(void) { return with_peer(import_read_fn); }
static int implicit_sync(void) { return with_peer(implicit_sync_fn); }
static int export_dmabuf(void) { return with_peer(export_fn); }
static int eviction(void) { return with_peer(eviction_fn); }

static const struct subtest tests[] = {
	{ "import-write", import_write },
	{ "import-compute", import_compute },
	{ "import-read", import_read },
	{ "implicit-sync", implicit_sync },
	{ "export", export_dmabuf },
	{ "eviction", eviction },
};

int main(int argc, char **argv)
{
	int i, ret;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			argv[i] = NULL;
			if (argv[i + 1])
				vk_cmd = &argv[i + 1];
			argc = i;
			break;
		}
	}
	if (argc != 2 || strcmp(argv[1], "--list")) {
		t_reason[0] = '\0';
		peer_ret = start(&peer);
		memcpy(peer_reason, t_reason, sizeof(t_reason));
	}
	ret = run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
	stop(&peer);
	return ret;
}
