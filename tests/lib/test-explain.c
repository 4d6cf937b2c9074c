// SPDX-License-Identifier: MIT
/*
 * Unit tests: p2pbuf_explain() on a made-up machine (a sysfs PCI tree, a
 * probe matrix, kernel configurations) built in a temporary directory.
 *
 *   pci0000:00 -- 00:02.0 (root port) -- 01:00.0 (switch upstream)
 *                   |-- 02:00.0 -- 03:00.0  VRAM, a P2P provider (p2pmem)
 *                   `-- 02:01.0 -- 04:00.0  an importer
 *              -- 00:03.0 (root port) -- 05:00.0  an importer, IOMMU group 7
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "p2pbuf/p2pbuf.h"
#include "test.h"

static char root[PATH_MAX];
static char sysfs[PATH_MAX + 16], probe[PATH_MAX + 16];
static char cfg_yes[PATH_MAX + 16], cfg_no_p2p[PATH_MAX + 16];
static char cfg_no_move[PATH_MAX + 16], cfg_gz[PATH_MAX + 16];

static const char *const tree[][2] = {
	{ "0000:03:00.0", "pci0000:00/0000:00:02.0/0000:01:00.0/0000:02:00.0/0000:03:00.0" },
	{ "0000:04:00.0", "pci0000:00/0000:00:02.0/0000:01:00.0/0000:02:01.0/0000:04:00.0" },
	{ "0000:05:00.0", "pci0000:00/0000:00:03.0/0000:05:00.0" },
	{ "0000:06:00.0", "pci0000:00/0000:00:02.0/0000:01:00.0/0000:02:02.0/0000:06:00.0" },
};

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX * 2];

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

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int build(void)
{
	char path[PATH_MAX * 2], target[PATH_MAX * 2];
	gzFile gz;

	snprintf(root, sizeof(root), "/tmp/p2pbuf-explain-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(sysfs, sizeof(sysfs), "%s/bus", root);
	snprintf(probe, sizeof(probe), "%s/probe", root);
	if (mkdirs(sysfs) || mkdirs(probe))
		return -1;
	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
		snprintf(target, sizeof(target), "%s/devices/%s", root, tree[i][1]);
		snprintf(path, sizeof(path), "%s/%s", sysfs, tree[i][0]);
		if (mkdirs(target) || symlink(target, path))
			return -1;
	}
	snprintf(path, sizeof(path), "%s/0000:03:00.0/p2pmem", sysfs);
	if (mkdirs(path))
		return -1;
	snprintf(target, sizeof(target), "%s/kernel/iommu_groups/7", root);
	snprintf(path, sizeof(path), "%s/0000:05:00.0/iommu_group", sysfs);
	if (mkdirs(target) || symlink(target, path))
		return -1;
	snprintf(path, sizeof(path), "%s/matrix", probe);
	if (write_text(path,
		       "provider=0000:03:00.0 client=0000:05:00.0 distance=-1 map=none dma=0x0 reason=host-bridge-not-whitelisted\n"
		       "provider=0000:03:00.0 client=0000:09:00.0 distance=4 map=bus-address dma=0xfe000000 reason=-\n"
		       "provider=0000:03:00.0 client=0000:06:00.0 distance=-1 map=none dma=0x0 reason=acs-redirect\n"))
		return -1;
	snprintf(cfg_yes, sizeof(cfg_yes), "%s/config-yes", root);
	snprintf(cfg_no_p2p, sizeof(cfg_no_p2p), "%s/config-no-p2p", root);
	snprintf(cfg_no_move, sizeof(cfg_no_move), "%s/config-no-move", root);
	snprintf(cfg_gz, sizeof(cfg_gz), "%s/config.gz", root);
	if (write_text(cfg_yes, "CONFIG_X=y\nCONFIG_PCI_P2PDMA=y\nCONFIG_DMABUF_MOVE_NOTIFY=y\n") ||
	    write_text(cfg_no_p2p, "# CONFIG_PCI_P2PDMA is not set\nCONFIG_DMABUF_MOVE_NOTIFY=y\n") ||
	    write_text(cfg_no_move, "CONFIG_PCI_P2PDMA=y\n# CONFIG_DMABUF_MOVE_NOTIFY is not set\n"))
		return -1;
	gz = gzopen(cfg_gz, "wb");
	if (!gz)
		return -1;
	gzputs(gz, "CONFIG_PCI_P2PDMA=y\nCONFIG_UDMABUF=m\n");
	return gzclose(gz) == Z_OK ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int explain(const char *p, const char *c, const char *config,
		   struct p2pbuf_explanation *e)
{
	struct p2pbuf_explain_source src = { .size = sizeof(src),
		.sysfs_pci = sysfs, .probe_dir = probe, .kernel_config = config,
	};

	return p2pbuf_explain(p, c, &src, e);
}

static int kernel_verdict(void)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };

	CHECK_EQ(explain("03:00.0", "0000:05:00.0", cfg_yes, &e), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	CHECK_EQ(e.reason, P2PBUF_REASON_HOST_BRIDGE_NOT_WHITELISTED);
	CHECK_EQ(e.kernel_verdict, 1);
	CHECK(!strcmp(e.reason_code, "host-bridge-not-whitelisted"));
	CHECK(!strcmp(e.common_upstream, ""));
	CHECK_EQ(e.client_iommu_group, 7);
	CHECK_EQ(e.provider_iommu_group, -1);
	CHECK_EQ(e.kernel_p2pdma, 1);
	CHECK_EQ(e.kernel_move_notify, 1);
	CHECK(strstr(e.text, "whitelist"));
	return 0;
}

static int derived_switch(void)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };

	CHECK_EQ(explain("0000:03:00.0", "0000:04:00.0", cfg_yes, &e), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_BUS_ADDRESS);
	CHECK_EQ(e.reason, P2PBUF_REASON_NO_KERNEL_VERDICT);
	CHECK_EQ(e.kernel_verdict, 0);
	CHECK(!strcmp(e.common_upstream, "0000:01:00.0"));
	CHECK(strstr(e.text, "derived"));
	return 0;
}

static int not_provider(void)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };

	CHECK_EQ(explain("0000:04:00.0", "0000:03:00.0", cfg_yes, &e), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	CHECK_EQ(e.reason, P2PBUF_REASON_NOT_PROVIDER);
	return 0;
}

/* Below one switch, but a downstream port redirects: the kernel says so. */
static int acs_redirect(void)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };

	CHECK_EQ(explain("0000:03:00.0", "0000:06:00.0", cfg_yes, &e), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	CHECK_EQ(e.reason, P2PBUF_REASON_ACS_REDIRECT);
	CHECK_EQ(e.kernel_verdict, 1);
	CHECK(!strcmp(e.reason_code, "acs-redirect"));
	CHECK(!strcmp(e.common_upstream, "0000:01:00.0"));
	CHECK(strstr(e.text, "ACS redirect"));
	return 0;
}

/* Only a P2P-capable importer gets what the devices allow. */
static int importer_kinds(void)
{
	struct p2pbuf_explanation e, p2p = { .size = sizeof(p2p) };

	CHECK_EQ(explain("0000:03:00.0", "0000:04:00.0", cfg_yes, &p2p), 0);
	CHECK_EQ(p2p.map, P2PBUF_MAP_BUS_ADDRESS);
	e = p2p;
	CHECK_EQ(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_P2P), 0);
	CHECK_EQ(e.map, p2p.map);
	CHECK_EQ(e.reason, p2p.reason);
	CHECK(!strcmp(e.text, p2p.text));
	CHECK_EQ(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_DYNAMIC), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	CHECK_EQ(e.reason, P2PBUF_REASON_IMPORTER_WITHOUT_P2P);
	CHECK(!strcmp(e.reason_code, "importer-without-p2p"));
	CHECK(strstr(e.text, "allow peer2peer"));
	e = p2p;
	CHECK_EQ(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_STATIC), 0);
	CHECK_EQ(e.reason, P2PBUF_REASON_IMPORTER_WITHOUT_P2P);
	CHECK(strstr(e.text, "static importer"));
	/* Undecided (the host bridge, no probe): no for this importer. */
	{
		struct p2pbuf_explain_source nop = { .size = sizeof(nop),
			.sysfs_pci = sysfs, .probe_dir = root,
			.kernel_config = cfg_yes,
		};

		CHECK_EQ(p2pbuf_explain("03:00.0", "0000:05:00.0", &nop, &e), 0);
	}
	CHECK_EQ(e.map, P2PBUF_MAP_UNKNOWN);
	CHECK_EQ(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_DYNAMIC), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	CHECK_EQ(e.reason, P2PBUF_REASON_IMPORTER_WITHOUT_P2P);
	/* A reason that holds whatever the importer stays. */
	CHECK_EQ(explain("03:00.0", "0000:05:00.0", cfg_yes, &e), 0);
	CHECK_EQ(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_STATIC), 0);
	CHECK_EQ(e.reason, P2PBUF_REASON_HOST_BRIDGE_NOT_WHITELISTED);
	CHECK_EQ(p2pbuf_explain_for_importer(&e, 3), -EINVAL);
	CHECK_EQ(p2pbuf_explain_for_importer(NULL, 0), -EINVAL);
	return 0;
}

static int odd_pairs(void)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };

	CHECK_EQ(explain("0000:03:00.0", "0000:0a:00.0", cfg_yes, &e), 0);
	CHECK_EQ(e.reason, P2PBUF_REASON_NO_SUCH_DEVICE);
	CHECK_EQ(explain("0000:03:00.0", "03:00.0", cfg_yes, &e), 0);
	CHECK_EQ(e.reason, P2PBUF_REASON_SAME_DEVICE);
	CHECK_EQ(explain("0000:03:00.0", "3:0.0", cfg_yes, &e), -EINVAL);
	CHECK_EQ(explain("0000:03:00.0", "0000:03:20.0", cfg_yes, &e), -EINVAL);
	CHECK_EQ(explain("0000:03:00.0", "0000:03:00.0x", cfg_yes, &e), -EINVAL);
	CHECK_EQ(explain("", "0000:03:00.0", cfg_yes, &e), -EINVAL);
	return 0;
}

static int kernel_without_p2pdma(void)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };

	CHECK_EQ(explain("0000:03:00.0", "0000:04:00.0", cfg_no_p2p, &e), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	CHECK_EQ(e.reason, P2PBUF_REASON_NO_P2PDMA_KERNEL);
	CHECK_EQ(e.kernel_p2pdma, 0);
	CHECK(strstr(e.text, "CONFIG_PCI_P2PDMA"));
	return 0;
}

/* P2P all the same: the dma-buf core pins the buffer while it is mapped. */
static int kernel_without_move_notify(void)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };

	CHECK_EQ(explain("0000:03:00.0", "0000:04:00.0", cfg_no_move, &e), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_BUS_ADDRESS);
	CHECK_EQ(e.reason, P2PBUF_REASON_NO_KERNEL_VERDICT);
	CHECK_EQ(e.kernel_move_notify, 0);
	CHECK(strstr(e.text, "peer to peer by PCI bus address below 0000:01:00.0; pinned while mapped (no CONFIG_DMABUF_MOVE_NOTIFY)"));
	/* A verdict that is not P2P says nothing of pins. */
	CHECK_EQ(explain("03:00.0", "0000:05:00.0", cfg_no_move, &e), 0);
	CHECK_EQ(e.map, P2PBUF_MAP_NONE);
	CHECK_EQ(e.reason, P2PBUF_REASON_HOST_BRIDGE_NOT_WHITELISTED);
	CHECK(!strstr(e.text, "pinned"));
	/* With move_notify nothing is pinned for a mapping. */
	CHECK_EQ(explain("0000:03:00.0", "0000:04:00.0", cfg_yes, &e), 0);
	CHECK(!strstr(e.text, "pinned"));
	return 0;
}

static int config_files(void)
{
	int state = -1;

	CHECK_EQ(p2pbuf_kernel_config(cfg_gz, "UDMABUF", &state), 0);
	CHECK_EQ(state, 1);
	CHECK_EQ(p2pbuf_kernel_config(cfg_gz, "DMABUF_MOVE_NOTIFY", &state), 0);
	CHECK_EQ(state, 0);
	CHECK_EQ(p2pbuf_kernel_config(cfg_no_p2p, "PCI_P2PDMA", &state), 0);
	CHECK_EQ(state, 0);
	/* A prefix of another option's name is not that option. */
	CHECK_EQ(p2pbuf_kernel_config(cfg_yes, "PCI_P2P", &state), 0);
	CHECK_EQ(state, 0);
	CHECK_EQ(p2pbuf_kernel_config("/nonexistent", "X", &state), -ENOENT);
	return 0;
}

/* Long option names and long lines: nothing read past a buffer. */
static int config_long_names(void)
{
	char path[PATH_MAX + 32], opt[700], text[1200];
	int state = -1;

	snprintf(path, sizeof(path), "%s/config-long", root);
	/* A last line without newline that is all of a long option's prefix. */
	memset(opt, 'A', sizeof(opt) - 1);
	opt[sizeof(opt) - 1] = '\0';
	snprintf(text, sizeof(text), "CONFIG_%.120s", opt);
	CHECK_EQ(write_text(path, text), 0);
	CHECK_EQ(p2pbuf_kernel_config(path, opt, &state), -EINVAL);
	CHECK_EQ(state, -1);
	CHECK_EQ(p2pbuf_kernel_config(path, "A=y", &state), -EINVAL);
	CHECK_EQ(p2pbuf_kernel_config(path, "", &state), -EINVAL);
	/* The rest of a line longer than the reader's buffer is no new line. */
	snprintf(text, sizeof(text), "# %.509s%s", opt,
		 "CONFIG_HIDDEN=y\nCONFIG_SEEN=m\n");
	CHECK_EQ(write_text(path, text), 0);
	CHECK_EQ(p2pbuf_kernel_config(path, "HIDDEN", &state), 0);
	CHECK_EQ(state, 0);
	CHECK_EQ(p2pbuf_kernel_config(path, "SEEN", &state), 0);
	CHECK_EQ(state, 1);
	unlink(path);
	return 0;
}

struct config_reader {
	const char *path;
	int ret, state;
};

static void *read_config(void *arg)
{
	struct config_reader *r = arg;

	r->ret = p2pbuf_kernel_config(r->path, "FIFO", &r->state);
	return NULL;
}

/*
 * The configuration is read through a close-on-exec descriptor: read from
 * a FIFO, so that the reader's descriptor can be seen while it is open.
 */
static int config_cloexec(void)
{
	struct config_reader r = { .ret = 1 };
	char path[PATH_MAX + 32], link[64], target[PATH_MAX + 32];
	int w, found = -1;
	pthread_t t;

	snprintf(path, sizeof(path), "%s/config-fifo", root);
	CHECK_EQ(mkfifo(path, 0600), 0);
	r.path = path;
	CHECK_EQ(pthread_create(&t, NULL, read_config, &r), 0);
	w = open(path, O_WRONLY | O_CLOEXEC);	/* waits for the reader */
	CHECK(w >= 0);
	for (int tries = 0; found < 0 && tries < 2000; tries++) {
		for (int fd = 0; fd < 1024; fd++) {
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			n = readlink(link, target, sizeof(target) - 1);
			if (fd == w || n <= 0)
				continue;
			target[n] = '\0';
			if (!strcmp(target, path)) {
				found = fd;
				break;
			}
		}
		if (found < 0)
			usleep(1000);
	}
	CHECK(found >= 0);
	CHECK(fcntl(found, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(write(w, "CONFIG_FIFO=y\n", 14), 14);
	close(w);
	CHECK_EQ(pthread_join(t, NULL), 0);
	unlink(path);
	CHECK_EQ(r.ret, 0);
	CHECK_EQ(r.state, 1);
	return 0;
}

static const struct test tests[] = {
	TEST(kernel_verdict),
	TEST(derived_switch),
	TEST(not_provider),
	TEST(odd_pairs),
	TEST(acs_redirect),
	TEST(importer_kinds),
	TEST(kernel_without_p2pdma),
	TEST(kernel_without_move_notify),
	TEST(config_files),
	TEST(config_long_names),
	TEST(config_cloexec),
};

int main(void)
{
	int ret;

	if (build()) {
		perror("test-explain: cannot build the fake sysfs");
		teardown();
		return 1;
	}
	ret = RUN("explain", tests);
	teardown();
	return ret;
}
