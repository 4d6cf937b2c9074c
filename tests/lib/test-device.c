// SPDX-License-Identifier: MIT
/*
 * Unit tests: finding and opening DRM devices, and the PCI addresses that
 * name them.
 *
 * The host has no DRM device: this program stands in for libdrm's
 * drmGetDevices2() and drmGetVersion() (its definitions take the place of
 * libdrm's, the library being linked into it) with three made-up devices
 * whose nodes are plain files in a temporary directory, and watches those
 * files with inotify to see which ones the library opens.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"
#include "test.h"

static char dir[] = "/tmp/p2pbuf-test-device.XXXXXX";

/* name, PCI address or NULL (platform device), primary, render node */
static const char *const fake[][4] = {
	{ "gpu", "0000:03:00.0", "card0", "renderD128" },
	{ "vgem", NULL, "card1", "renderD129" },
	{ "display", NULL, "card2", NULL },
};
#define NFAKE (sizeof(fake) / sizeof(fake[0]))

static char *node_path(const char *node)
{
	char *p = malloc(strlen(dir) + strlen(node) + 2);

	if (p)
		sprintf(p, "%s/%s", dir, node);
	return p;
}

int drmGetDevices2(uint32_t flags, drmDevicePtr devices[], int max)
{
	int n = 0;

	(void)flags;
	/* Listed in another order than the nodes': the library sorts. */
	for (int i = NFAKE - 1; i >= 0; i--) {
		drmDevicePtr d;

		if (!devices) {
			n++;
			continue;
		}
		if (n == max)
			break;
		d = calloc(1, sizeof(*d));
		d->nodes = calloc(DRM_NODE_MAX, sizeof(char *));
		d->nodes[DRM_NODE_PRIMARY] = node_path(fake[i][2]);
		d->available_nodes = 1 << DRM_NODE_PRIMARY;
		if (fake[i][3]) {
			d->nodes[DRM_NODE_RENDER] = node_path(fake[i][3]);
			d->available_nodes |= 1 << DRM_NODE_RENDER;
		}
		d->bustype = DRM_BUS_PLATFORM;
		if (fake[i][1]) {
			unsigned int dom, bus, dev, fn;

			sscanf(fake[i][1], "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
			d->bustype = DRM_BUS_PCI;
			d->businfo.pci = calloc(1, sizeof(*d->businfo.pci));
			d->businfo.pci->domain = (uint16_t)dom;
			d->businfo.pci->bus = (uint8_t)bus;
			d->businfo.pci->dev = (uint8_t)dev;
			d->businfo.pci->func = (uint8_t)fn;
		}
		devices[n++] = d;
	}
	return n;
}

void drmFreeDevices(drmDevicePtr devices[], int count)
{
	for (int i = 0; i < count; i++) {
		for (int k = 0; k < DRM_NODE_MAX; k++)
			free(devices[i]->nodes[k]);
		free(devices[i]->nodes);
		if (devices[i]->bustype == DRM_BUS_PCI)
			free(devices[i]->businfo.pci);
		free(devices[i]);
	}
}

/* DRM_IOCTL_VERSION: the fake device's name, by the node @fd opened. */
drmVersionPtr drmGetVersion(int fd)
{
	char link[64], target[PATH_MAX];
	drmVersionPtr v;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	for (size_t i = 0; i < NFAKE; i++) {
		const char *base = strrchr(target, '/') + 1;

		if ((fake[i][3] && !strcmp(base, fake[i][3])) ||
		    !strcmp(base, fake[i][2])) {
			v = calloc(1, sizeof(*v));
			v->name = strdup(fake[i][0]);
			v->name_len = (int)strlen(v->name);
			return v;
		}
	}
	return NULL;
}

void drmFreeVersion(drmVersionPtr v)
{
	if (v)
		free(v->name);
	free(v);
}

/* The node files opened since the last call, as " card0 renderD128 ". */
static int opened(int ino, char *out, size_t len)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	snprintf(out, len, " ");
	while ((n = read(ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if ((ev->mask & IN_OPEN) && ev->len &&
			    strlen(out) + strlen(ev->name) + 2 < len) {
				strcat(out, ev->name);
				strcat(out, " ");
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	return 0;
}

static int watch(void)
{
	int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (ino >= 0 && inotify_add_watch(ino, dir, IN_OPEN) < 0) {
		close(ino);
		return -1;
	}
	return ino;
}

/* Enumeration opens no primary node, and no node sysfs can name (here: the
 * render nodes, which have no sysfs entry, for the driver's name). */
static int list_opens_no_primary_node(void)
{
	struct p2pbuf_device_info infos[4];
	unsigned int n = 0;
	char seen[256];
	int ino = watch();

	P2PBUF_INIT_ARRAY(infos, 4);

	CHECK(ino >= 0);
	CHECK_EQ(p2pbuf_device_list(infos, 4, &n), 0);
	opened(ino, seen, sizeof(seen));
	close(ino);
	CHECK_EQ(n, 3);
	CHECK(!strstr(seen, "card"));
	/* In node order, with what libdrm and the driver said. */
	CHECK(!strcmp(strrchr(infos[0].primary_node, '/'), "/card0"));
	CHECK(!strcmp(strrchr(infos[0].render_node, '/'), "/renderD128"));
	CHECK(!strcmp(infos[0].pci_address, "0000:03:00.0"));
	CHECK(!strcmp(infos[0].driver, "gpu"));
	CHECK(!strcmp(infos[1].driver, "vgem"));
	CHECK(!strcmp(infos[1].pci_address, ""));
	CHECK(!strcmp(strrchr(infos[2].primary_node, '/'), "/card2"));
	CHECK(!strcmp(infos[2].render_node, ""));
	/* A device with no render node is not opened to be listed. */
	CHECK(!strcmp(infos[2].driver, ""));
	/* Fewer slots than devices: the count says how many there are. */
	CHECK_EQ(p2pbuf_device_list(infos, 1, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(p2pbuf_device_list(NULL, 0, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(p2pbuf_device_list(NULL, 1, &n), -EINVAL);
	return 0;
}

/* Opening a device opens its render node and nothing else. */
static int open_opens_only_its_render_node(void)
{
	struct p2pbuf_device_info info = { .size = sizeof(info) }, old = { .size = sizeof(old) };
	struct p2pbuf_device *dev;
	char seen[256], *card1 = node_path("card1");
	int ino = watch();

	CHECK(ino >= 0 && card1);
	/* By primary node, driver name and PCI address (short form too). */
	CHECK_EQ(p2pbuf_device_open(card1, &dev), 0);
	free(card1);
	opened(ino, seen, sizeof(seen));
	CHECK(!strcmp(seen, " renderD129 "));
	CHECK_EQ(p2pbuf_device_query(dev, &info), 0);
	CHECK(!strcmp(info.pci_address, ""));
	CHECK(!strcmp(info.driver, "vgem"));
	/* The name before 0.3 is the same function. */
	CHECK_EQ(p2pbuf_device_info(dev, &old), 0);
	CHECK(!memcmp(&info, &old, sizeof(info)));
	CHECK_EQ(p2pbuf_device_close(dev), 0);

	/* By driver name: those sysfs cannot name are asked, by render node. */
	CHECK_EQ(p2pbuf_device_open("vgem", &dev), 0);
	CHECK_EQ(p2pbuf_device_query(dev, &info), 0);
	CHECK(!strcmp(strrchr(info.render_node, '/'), "/renderD129"));
	CHECK_EQ(p2pbuf_device_close(dev), 0);
	opened(ino, seen, sizeof(seen));
	CHECK(!strstr(seen, "card") && strstr(seen, " renderD129 "));

	CHECK_EQ(p2pbuf_device_open("03:00.0", &dev), 0);
	CHECK_EQ(p2pbuf_device_query(dev, &info), 0);
	CHECK(!strcmp(info.driver, "gpu"));
	CHECK_EQ(p2pbuf_device_close(dev), 0);
	opened(ino, seen, sizeof(seen));
	CHECK(!strcmp(seen, " renderD128 "));

	/* A device with a primary node only: that is all there is to open. */
	card1 = node_path("card2");
	CHECK(card1);
	CHECK_EQ(p2pbuf_device_open(card1, &dev), 0);
	free(card1);
	CHECK_EQ(p2pbuf_device_close(dev), 0);
	opened(ino, seen, sizeof(seen));
	CHECK(!strcmp(seen, " card2 "));

	CHECK_EQ(p2pbuf_device_open("0000:99:00.0", &dev), -ENODEV);
	opened(ino, seen, sizeof(seen));
	CHECK(!strcmp(seen, " "));
	CHECK_EQ(p2pbuf_device_open("nouveau", &dev), -ENODEV);
	opened(ino, seen, sizeof(seen));
	CHECK(!strstr(seen, "card"));
	close(ino);
	return 0;
}

static int pci_addresses(void)
{
	static const char *const good[][2] = {
		{ "0000:01:00.0", "0000:01:00.0" },
		{ "01:1f.7", "0000:01:1f.7" },
		{ "ABCD:EF:1F.7", "abcd:ef:1f.7" },
		/* Intel VMD domains, where many NVMe drives sit. */
		{ "10000:e1:00.0", "10000:e1:00.0" },
		{ "1ffff:00:02.0", "1ffff:00:02.0" },
	};
	static const char *const bad[] = {
		" 000:01:00.0", "+000:01:00.0", "0x00:01:00.0", "-001:01:00.0",
		"000:01:00.0", "0000:1:00.0", "0000:01:0.0", "0000:01:00.00",
		"0000:01:20.0", "0000:01:00.8", "0000:01:00.0 ", "00000:01:00.0",
		"0000:01:00", "0000:+1:00.0", "0000: 1:00.0", "01:00.-1",
		"1000000:01:00.0", "", ":01:00.0", "0000::01:00.0",
	};
	struct p2pbuf_explain_source src = { .size = sizeof(src),
		.sysfs_pci = dir, .probe_dir = dir, .kernel_config = "/nonexistent",
	};
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	char out[16];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(out, 0, sizeof(out));
		if (p2pbuf__pci_address(good[i][0], out) || strcmp(out, good[i][1])) {
			fprintf(stderr, "    '%s' -> '%s'\n", good[i][0], out);
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (p2pbuf__pci_address(bad[i], out) != -EINVAL) {
			fprintf(stderr, "    '%s' accepted\n", bad[i]);
			return 1;
		}
	}
	/* What the public functions take: a VMD address is one. */
	CHECK_EQ(p2pbuf_explain("10000:e1:00.0", "0000:01:00.0", &src, &e), 0);
	CHECK_EQ(p2pbuf_explain("0x00:01:00.0", "0000:02:00.0", &src, &e), -EINVAL);
	return 0;
}

static const struct test tests[] = {
	TEST(list_opens_no_primary_node),
	TEST(open_opens_only_its_render_node),
	TEST(pci_addresses),
};

int main(void)
{
	int ret = 1;

	if (!mkdtemp(dir)) {
		perror("test-device: mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < NFAKE; i++) {
		for (int k = 2; k < 4; k++) {
			char *p = fake[i][k] ? node_path(fake[i][k]) : NULL;
			int fd = p ? open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600) : 0;

			if (fd < 0)
				goto out;
			if (p)
				close(fd);
			free(p);
		}
	}
	ret = RUN("device", tests);
out:
	for (size_t i = 0; i < NFAKE; i++) {
		for (int k = 2; k < 4; k++) {
			char *p = fake[i][k] ? node_path(fake[i][k]) : NULL;

			if (p)
				unlink(p);
			free(p);
		}
	}
	rmdir(dir);
	return ret;
}
