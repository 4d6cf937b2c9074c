// SPDX-License-Identifier: MIT
/*
 * p2pbuf explain rdma:DEV PID:FD: which path a transfer between an RDMA
 * device and a dma-buf takes through p2pbuf_rdma.ko, and why.
 *
 * The RDMA device is read from sysfs only (class/infiniband, class/net,
 * bus/pci/devices, module/): the tool links no rdma-core for this. The
 * P2P verdict is libp2pbuf's (p2pbuf_explain_dmabuf()) for the PCI
 * function p2pbuf_rdma.ko attaches the buffer for: an HCA's own function
 * (its DMA device), or for a software device (rxe, siw: no DMA device)
 * the PCI function behind its netdev, as p2pbuf_rdma_dma_device() picks
 * them.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"

#define RDMA_PREFIX "rdma:"

static const char *const path_names[] = {
	[CLI_RDMA_PATH_P2P] = "p2p",
	[CLI_RDMA_PATH_SYSTEM] = "system-memory",
	[CLI_RDMA_PATH_CPU_COPY] = "cpu-copy",
	[CLI_RDMA_PATH_NONE] = "none",
	[CLI_RDMA_PATH_UNKNOWN] = "unknown",
};

const char *cli_rdma_path_name(enum cli_rdma_path path)
{
	if ((unsigned int)path >= sizeof(path_names) / sizeof(*path_names))
		return "?";
	return path_names[path];
}

int cli_rdma_name(const char *arg, const char **name)
{
	size_t n = strlen(RDMA_PREFIX);
	const char *s;

	if (!arg || strncmp(arg, RDMA_PREFIX, n))
		return -ENOENT;
	s = arg + n;
	/* A sysfs name: IB_DEVICE_NAME_MAX, no '/', not "." or "..". */
	if (!*s || strlen(s) >= CLI_RDMA_NAME_LEN || strchr(s, '/') ||
	    !strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (!isgraph((unsigned char)*p))
			return -EINVAL;
	*name = s;
	return 0;
}

/* @src into @dst of @len bytes, cut short if need be. */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The first line of @path, without its newline; -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	if (ret) {
		buf[0] = '\0';
		return ret;
	}
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The last component of symlink @path (a driver's name), or "". */
static void link_base(const char *path, char *buf, size_t len)
{
	char link[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	const char *base;

	buf[0] = '\0';
	if (n <= 0)
		return;
	link[n] = '\0';
	base = strrchr(link, '/');
	copy(buf, len, base ? base + 1 : link);
}

/* "DDDD:BB:DD.F", as sysfs names PCI functions. */
static int is_pci_name(const char *s)
{
	static const char form[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(form) - 1)
		return 0;
	for (size_t i = 0; form[i]; i++)
		if (form[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != form[i])
			return 0;
	return 1;
}

/*
 * The PCI function nearest above (or at) the device @link points to, as
 * the module walks from a netdev's parent: into @pci, or "" if none.
 */
static void nearest_pci(const char *root, const char *link, char pci[16])
{
	char real[PATH_MAX], path[PATH_MAX];
	char *slash;

	pci[0] = '\0';
	if (!realpath(link, real))
		return;
	while ((slash = strrchr(real, '/'))) {
		const char *base = slash + 1;

		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, base);
		if (is_pci_name(base) && !access(path, F_OK)) {
			copy(pci, 16, base);
			return;
		}
		*slash = '\0';
	}
}

static int valid_netdev(const char *s)
{
	/* IFNAMSIZ, no '/' nor blanks, as the kernel's dev_valid_name(). */
	if (!*s || strlen(s) >= 16 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * siw has no netdev in sysfs: its GID 0 is its netdev's MAC address
 * (siw_query_gid()), matched against class/net/ (one match only).
 */
static void netdev_by_gid(const char *root, const char *dev, char *netdev,
			  size_t len)
{
	unsigned int g[8], found = 0;
	char path[PATH_MAX], line[64], mac[32], addr[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/class/infiniband/%s/ports/1/gids/0",
		 root, dev);
	if (read_line(path, line, sizeof(line)) ||
	    sscanf(line, "%4x:%4x:%4x:%4x:%4x:%4x:%4x:%4x", &g[0], &g[1],
		   &g[2], &g[3], &g[4], &g[5], &g[6], &g[7]) != 8)
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 g[0] >> 8, g[0] & 0xff, g[1] >> 8, g[1] & 0xff, g[2] >> 8,
		 g[2] & 0xff);
	snprintf(path, sizeof(path), "%s/class/net", root);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !valid_netdev(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/class/net/%s/address", root,
			 de->d_name);
		if (read_line(path, addr, sizeof(addr)) || strcasecmp(addr, mac))
			continue;
		if (!found++)
			copy(netdev, len, de->d_name);
	}
	closedir(dir);
	if (found != 1)
		netdev[0] = '\0';
}

/* Kernel @release is 6.1 or older (0), newer (1), unknown (-1). */
static int newer_than_6_1(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return -1;
	return major > 6 || (major == 6 && minor > 1);
}

/*
 * May userspace register dma-buf MRs on it (ibv_reg_dmabuf_mr(), the
 * driver's reg_user_mr_dmabuf)? On 6.1: mlx5 and efa; never rxe or siw.
 */
static int dmabuf_mr(const struct cli_rdma_device *d)
{
	if (d->software)
		return 0;
	if (!strncmp(d->driver, "mlx5_core", 9) || !strcmp(d->driver, "efa"))
		return 1;
	return newer_than_6_1() ? -1 : 0;
}

int cli_rdma_device(const char *root, const char *name,
		    struct cli_rdma_device *d)
{
	char base[PATH_MAX], path[PATH_MAX + 64], line[64];

	memset(d, 0, sizeof(*d));
	if (!root)
		root = "/sys";
	if (strlen(name) >= sizeof(d->name) || strchr(name, '/'))
		return -EINVAL;
	copy(d->name, sizeof(d->name), name);
	snprintf(base, sizeof(base), "%s/class/infiniband/%s", root, name);
	if (access(base, F_OK))
		return -ENODEV;
	snprintf(path, sizeof(path), "%s/node_type", base);
	read_line(path, d->node_type, sizeof(d->node_type));
	snprintf(path, sizeof(path), "%s/module/p2pbuf_rdma", root);
	d->module_loaded = !access(path, F_OK);

	/* Port 1's netdev (RoCE's GID table names it). */
	snprintf(path, sizeof(path), "%s/ports/1/gid_attrs/ndevs/0", base);
	if (read_line(path, line, sizeof(line)) || !valid_netdev(line))
		line[0] = '\0';
	copy(d->netdev, sizeof(d->netdev), line);

	snprintf(path, sizeof(path), "%s/device", base);
	if (!access(path, F_OK)) {
		/* A parent device: the HCA's, whose PCI function DMAs. */
		snprintf(path, sizeof(path), "%s/device/driver", base);
		link_base(path, d->driver, sizeof(d->driver));
		snprintf(path, sizeof(path), "%s/device", base);
		nearest_pci(root, path, d->pci);
		d->dma_device = 1;
		d->dmabuf_mr = dmabuf_mr(d);
		return 0;
	}

	/* None: rxe and siw register without a DMA device (virtual DMA). */
	d->software = 1;
	snprintf(path, sizeof(path), "%s/parent", base);
	if (!read_line(path, line, sizeof(line))) {
		/* rxe's own attribute: its netdev. */
		snprintf(d->driver, sizeof(d->driver), "rxe");
		if (!d->netdev[0] && valid_netdev(line))
			copy(d->netdev, sizeof(d->netdev), line);
	} else if (!strncmp(d->node_type, "4:", 2)) {
		/* An iWARP RNIC without a parent device: siw. */
		snprintf(d->driver, sizeof(d->driver), "siw");
		if (!d->netdev[0])
			netdev_by_gid(root, name, d->netdev, sizeof(d->netdev));
	}
	if (d->netdev[0]) {
		snprintf(path, sizeof(path), "%s/class/net/%s/device", root,
			 d->netdev);
		nearest_pci(root, path, d->pci);
	}
	d->dmabuf_mr = dmabuf_mr(d);
	return 0;
}

static int is_p2p(int map)
{
	return map == P2PBUF_MAP_BUS_ADDRESS || map == P2PBUF_MAP_HOST_BRIDGE ||
	       map == P2PBUF_MAP_IOMMU;
}

static void say(struct cli_rdma_answer *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct cli_rdma_answer *a, const char *fmt, ...)
{
	size_t n = strlen(a->text);
	va_list ap;

	if (n >= sizeof(a->text) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(a->text + n, sizeof(a->text) - n, fmt, ap);
	va_end(ap);
}

/* Where the exporter's answer @e puts the buffer for the attachment. */
static void memory_of(const struct p2pbuf_explanation *e,
		      struct cli_rdma_answer *a)
{
	if (is_p2p(e->map))
		a->memory = "device";
	else if (e->map == P2PBUF_MAP_UNKNOWN)
		a->memory = "unknown";
	else
		a->memory = "system";
}

void cli_rdma_decide(const struct cli_rdma_device *d,
		     const struct p2pbuf_explanation *e, const char *exporter,
		     struct cli_rdma_answer *a)
{
	const char *kind = d->driver[0] ? d->driver : "unknown driver";
	const char *why = e && e->reason_code[0] ? e->reason_code : "-";

	memset(a, 0, sizeof(*a));
	a->memory = "unknown";
	if (exporter && !strcmp(exporter, "udmabuf")) {
		/* serve: EOPNOTSUPP; the module needs the exporter's pages. */
		a->path = CLI_RDMA_PATH_NONE;
		a->reason = "exporter-without-pages";
		a->memory = "system";
		say(a, "p2pbuf_rdma.ko serves only buffers whose exporter gives it their pages (p2pgem); udmabuf does not, so 'p2pbuf serve' refuses it");
		if (d->dmabuf_mr == 1)
			say(a, "; ibv_reg_dmabuf_mr() on %s registers it, in system memory",
			    d->name);
		return;
	}
	if (d->software) {
		if (!d->pci[0]) {
			a->path = CLI_RDMA_PATH_NONE;
			a->reason = "no-pci-function";
			say(a, "%s is a software RDMA device (%s) without a DMA device, and its netdev %s is not a PCI function: p2pbuf_rdma.ko has no device to attach the buffer for and refuses connections on it (ENODEV)",
			    d->name, d->driver[0] ? d->driver : "no parent device",
			    d->netdev[0] ? d->netdev : "(unknown)");
			return;
		}
		a->path = CLI_RDMA_PATH_CPU_COPY;
		a->reason = "software-device";
		if (e)
			memory_of(e, a);
		say(a, "%s is a software RDMA device (%s) without a DMA device: it copies with the CPU through the buffer's pages; p2pbuf_rdma.ko attaches the buffer for %s's PCI function %s",
		    d->name, d->driver[0] ? d->driver : "no parent device",
		    d->netdev, d->pci);
		if (!strcmp(a->memory, "device"))
			say(a, ", which reaches the exporter's memory peer to peer, so the buffer stays in VRAM and the CPU copies through the BAR");
		else if (!strcmp(a->memory, "system"))
			say(a, ", for which the exporter maps the buffer in system memory (%s), so the CPU copies system pages", why);
		else
			say(a, "; whether the buffer stays in VRAM for it is undecided (%s)", why);
		return;
	}
	if (!d->pci[0]) {
		/* A DMA device that is no PCI function: never P2P. */
		a->path = CLI_RDMA_PATH_SYSTEM;
		a->reason = "not-a-pci-device";
		a->memory = "system";
		say(a, "%s (%s) DMAs through a device that is not a PCI function: the exporter maps the buffer in system memory for it and the NIC DMAs into system pages",
		    d->name, kind);
		return;
	}
	if (!e) {
		a->path = CLI_RDMA_PATH_UNKNOWN;
		a->reason = "no-verdict";
		say(a, "no P2P verdict for %s", d->pci);
		return;
	}
	memory_of(e, a);
	a->reason = why;
	if (is_p2p(e->map)) {
		a->path = CLI_RDMA_PATH_P2P;
		say(a, "%s (%s) DMAs peer to peer: p2pbuf_rdma.ko attaches the buffer for %s with peer2peer, the exporter keeps it in VRAM and the NIC reaches it there (%s)",
		    d->name, kind, d->pci, e->text);
	} else if (e->map == P2PBUF_MAP_UNKNOWN) {
		a->path = CLI_RDMA_PATH_UNKNOWN;
		say(a, "%s (%s): whether %s reaches the buffer peer to peer is undecided (%s)",
		    d->name, kind, d->pci, e->text);
	} else {
		a->path = CLI_RDMA_PATH_SYSTEM;
		say(a, "%s (%s): the NIC DMAs into system pages; the exporter maps the buffer in system memory for %s (%s)",
		    d->name, kind, d->pci, e->text);
	}
}

/* ---- the command ---- */

static void json_tristate(int v)
{
	printf("%s", v < 0 ? "null" : v ? "true" : "false");
}

static void print_answer(const struct opts *o, const struct cli_rdma_device *d,
			 const char *ref, const char *exporter,
			 const struct p2pbuf_explanation *e,
			 const struct cli_rdma_answer *a)
{
	const char *map = "?";

	if (e)
		p2pbuf_map_name(e->map, &map);
	if (o->json) {
		printf("{\"rdma_device\":");
		cli_json_string(stdout, d->name);
		printf(",\"buffer\":\"%s\",\"exporter\":", ref);
		cli_json_string(stdout, exporter);
		printf(",\"path\":\"%s\",\"reason\":\"%s\",\"memory\":\"%s\",\"software\":%s,\"driver\":",
		       cli_rdma_path_name(a->path), a->reason, a->memory,
		       d->software ? "true" : "false");
		cli_json_string(stdout, d->driver);
		printf(",\"node_type\":");
		cli_json_string(stdout, d->node_type);
		printf(",\"netdev\":");
		if (d->netdev[0])
			cli_json_string(stdout, d->netdev);
		else
			printf("null");
		printf(",\"pci\":");
		if (d->pci[0])
			cli_json_string(stdout, d->pci);
		else
			printf("null");
		printf(",\"map\":");
		if (e)
			printf("\"%s\"", map);
		else
			printf("null");
		printf(",\"p2p_reason\":");
		if (e)
			cli_json_string(stdout, e->reason_code);
		else
			printf("null");
		printf(",\"kernel_verdict\":");
		json_tristate(e ? e->kernel_verdict : -1);
		printf(",\"dmabuf_mr\":");
		json_tristate(d->dmabuf_mr);
		printf(",\"module_loaded\":%s,\"text\":",
		       d->module_loaded ? "true" : "false");
		cli_json_string(stdout, a->text);
		printf("}\n");
		return;
	}
	printf("%s <-> %s (exported by %s): %s\n", d->name, ref, exporter,
	       cli_rdma_path_name(a->path));
	printf("  %s\n", a->text);
	printf("  RDMA device: %s, %s, node type %s, netdev %s\n",
	       d->software ? "software (no DMA device)" : "hardware",
	       d->driver[0] ? d->driver : "unknown driver",
	       d->node_type[0] ? d->node_type : "?",
	       d->netdev[0] ? d->netdev : "none known");
	if (d->pci[0])
		printf("  attached for PCI function %s: %s%s\n", d->pci, map,
		       e ? (e->kernel_verdict ? " (the kernel's verdict)" :
			    " (derived from sysfs and the kernel configuration)") : "");
	else
		printf("  attached for: no PCI function\n");
	printf("  dma-buf MRs from userspace (ibv_reg_dmabuf_mr): %s\n",
	       d->dmabuf_mr < 0 ? "unknown for this driver on this kernel (on 6.1 only mlx5 and efa)" :
	       d->dmabuf_mr ? "yes" :
	       d->software ? "no (software devices: upstream refused dma-buf MRs for them)" :
	       "no (on 6.1 only mlx5 and efa)");
	printf("  p2pbuf_rdma.ko: %s\n", d->module_loaded ? "loaded" :
	       "not loaded (insmod rdma-importer/p2pbuf_rdma.ko)");
}

int cmd_explain_rdma(const struct opts *o, const char *dev_arg,
		     const char *ref)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	struct p2pbuf_explain_source src = { .size = sizeof(src) };
	struct cli_rdma_device d;
	struct cli_rdma_answer a;
	char exporter[32] = "", sysfs_pci[PATH_MAX], probe[PATH_MAX];
	const char *name = NULL;
	int ret, fd;
	pid_t pid;

	if (cli_rdma_name(dev_arg, &name))
		return cli_error(EXIT_USAGE, 0,
				 "'%s' is not rdma:DEV (an RDMA device's name, as in /sys/class/infiniband)",
				 dev_arg);
	if (cli_parse_buffer_ref(ref, &pid, &fd))
		return cli_error(EXIT_USAGE, 0,
				 "'%s' is not PID:FD (a process id and its descriptor number, as 'p2pbuf alloc' prints)",
				 ref);
	ret = cli_rdma_device(o->sysfs_root, name, &d);
	if (ret)
		return cli_error(EXIT_UNAVAILABLE, ret,
				 "RDMA device %s: no such device in %s/class/infiniband ('rdma link' lists them)",
				 name, o->sysfs_root ? o->sysfs_root : "/sys");
	ret = cli_take_buffer(ref, &fd);
	if (ret)
		return ret;
	/* A sysfs root stands for the PCI devices and the probe under it. */
	src.sysfs_pci = o->sysfs;
	src.probe_dir = o->probe_dir;
	src.kernel_config = o->config;
	if (o->sysfs_root && !o->sysfs) {
		snprintf(sysfs_pci, sizeof(sysfs_pci), "%s/bus/pci/devices",
			 o->sysfs_root);
		src.sysfs_pci = sysfs_pci;
	}
	if (o->sysfs_root && !o->probe_dir) {
		snprintf(probe, sizeof(probe), "%s/kernel/debug/p2pbuf_probe",
			 o->sysfs_root);
		src.probe_dir = probe;
	}
	/*
	 * The exporter's answer for the function the module attaches for;
	 * without one, for no function there is, to name the exporter.
	 */
	ret = p2pbuf_explain_dmabuf(fd, d.pci[0] ? d.pci : "0000:00:00.0", &src,
				    &e, exporter, sizeof(exporter));
	close(fd);
	if (ret)
		return cli_error(EXIT_FAILED, ret, "%s: %s", ref,
				 ret == -ENODEV ? "not exported by a p2pgem device or udmabuf: no answer for this exporter" :
				 strerror(-ret));
	cli_rdma_decide(&d, d.pci[0] ? &e : NULL, exporter, &a);
	print_answer(o, &d, ref, exporter, d.pci[0] ? &e : NULL, &a);
	return EXIT_OK;
}
