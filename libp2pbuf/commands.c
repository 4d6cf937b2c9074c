// SPDX-License-Identifier: MIT
/*
 * p2pbuf commands built on libp2pbuf: info, ls, alloc, fill, verify, share,
 * attach, explain.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"

static int errno_exit(int err)
{
	/* A missing driver or kernel feature is "kernel side missing". */
	switch (-err) {
	case ENOENT:
	case ENODEV:
	case ENOTTY:
	case ENOSYS:
	case EOPNOTSUPP:
		return EXIT_UNAVAILABLE;
	default:
		return EXIT_FAILED;
	}
}

/* A progress line on a terminal for work that takes more than a second. */
struct progress {
	const char *what;
	struct timespec start;
	int shown;
};

static void progress_start(struct progress *p, const char *what)
{
	p->what = what;
	p->shown = 0;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

static void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	struct timespec now;

	if (!isatty(STDERR_FILENO) || !total)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - p->start.tv_sec < 1 && !p->shown)
		return;
	fprintf(stderr, "\r%s: %3u%%", p->what,
		(unsigned int)(done * 100 / total));
	p->shown = 1;
}

static void progress_done(struct progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r%s: done\n", p->what);
}

#define CHUNK (1u << 20)

/* Fill or verify [0, size) of a dma-buf inside a CPU access bracket. */
static int pattern_run(int fd, uint64_t seed, int verify, uint64_t *bad_at)
{
	struct p2pbuf_mapping map;
	struct progress prog;
	/*
	 * Read-write brackets even to verify: 6.1's udmabuf keeps the
	 * direction of the first bracket, and DMA-API debug WARNs when a
	 * later one differs.
	 */
	unsigned int access = P2PBUF_ACCESS_RW;
	uint8_t *p;
	int ret, ret2;

	ret = p2pbuf_mmap(fd, 0, 0, access, &map);
	if (ret)
		return ret;
	ret = p2pbuf_cpu_access_begin(fd, access);
	if (ret)
		goto out_unmap;
	progress_start(&prog, verify ? "verifying" : "filling");
	p = map.addr;
	for (uint64_t i = 0; i < map.length; i++) {
		if ((i % CHUNK) == 0)
			progress_update(&prog, i, map.length);
		if (!verify) {
			p[i] = cli_pattern_byte(seed, i);
		} else if (p[i] != cli_pattern_byte(seed, i)) {
			*bad_at = i;
			ret = -EILSEQ;
			break;
		}
	}
	progress_done(&prog);
	ret2 = p2pbuf_cpu_access_end(fd, access);
	if (!ret)
		ret = ret2;
out_unmap:
	p2pbuf_munmap(&map);
	return ret;
}

/* ---- info ---- */

static void info_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf info [--json] [--kernel-config FILE]\n"
		"\n"
		"What this machine offers p2pbuf: the kernel options it depends on\n"
		"and what they mean (peer-to-peer at all; whether a mapping pins\n"
		"the buffer), DRM devices that export buffers, udmabuf, and whether\n"
		"the p2pbuf_probe topology matrix is available.\n");
}

static const char *const config_options[] = {
	"PCI_P2PDMA", "DMABUF_MOVE_NOTIFY", "DMA_SHARED_BUFFER", "UDMABUF",
	"SYNC_FILE", "DRM_VGEM",
};

/* 1 when CONFIG_@option is on, 0 when off, -1 when unknown. */
static int config_state(const char *path, const char *option)
{
	int state;

	return p2pbuf_kernel_config(path, option, &state) ? -1 : state;
}

static void json_tristate(int state)
{
	printf("%s", state < 0 ? "null" : state ? "true" : "false");
}

/* What the two options mean for p2pbuf's users, in words. */
static void info_consequences(const char *config)
{
	int p2pdma = config_state(config, "PCI_P2PDMA");
	int move_notify = config_state(config, "DMABUF_MOVE_NOTIFY");

	printf("peer-to-peer: ");
	if (p2pdma < 0)
		printf("unknown (the kernel configuration is not readable)\n");
	else if (p2pdma)
		printf("device memory can be mapped for peers (CONFIG_PCI_P2PDMA)\n");
	else
		printf("never: the kernel is built without CONFIG_PCI_P2PDMA, so importers get system memory (reason kernel-without-pci-p2pdma)\n");
	printf("dma-buf pins: ");
	if (move_notify < 0)
		printf("unknown (the kernel configuration is not readable)\n");
	else if (move_notify)
		printf("dynamic importers follow moves (move_notify); a mapping pins nothing\n");
	else
		printf("this kernel pins a dynamic importer's buffer for as long as it is mapped, because CONFIG_DMABUF_MOVE_NOTIFY is off: a mapped buffer is neither moved nor evicted, and p2pgem keeps it in VRAM only for peer-to-peer importers within its pin quota (pinned_vram; p2pgem_attachments in debugfs says which importer pins what)\n");
}

int cmd_info(int argc, char **argv)
{
	struct p2pbuf_device_info devs[32];
	struct opts o = { 0 };
	const char *pos[1];
	struct utsname uts;
	unsigned int n = 0;
	int npos, ret, probe, udmabuf;

	ret = cli_parse_options(argc, argv, "--json --kernel-config", &o, pos, 0, &npos,
		    info_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	uname(&uts);
	if (p2pbuf_device_list(devs, 32, &n))
		n = 0;
	if (n > 32)
		n = 32;
	probe = !access("/sys/kernel/debug/p2pbuf_probe/matrix", R_OK);
	udmabuf = !access("/dev/udmabuf", R_OK | W_OK);

	if (o.json) {
		printf("{\"library\":\"%d.%d\",\"kernel\":", P2PBUF_VERSION_MAJOR,
		       P2PBUF_VERSION_MINOR);
		cli_json_string(stdout, uts.release);
		printf(",\"config\":{");
		for (size_t i = 0; i < sizeof(config_options) / sizeof(*config_options); i++) {
			int state;

			printf("%s\"%s\":", i ? "," : "", config_options[i]);
			if (p2pbuf_kernel_config(o.config, config_options[i], &state))
				printf("null");
			else
				printf("%s", state ? "true" : "false");
		}
		printf("},\"peer_to_peer\":");
		json_tristate(config_state(o.config, "PCI_P2PDMA"));
		printf(",\"pins_on_map\":");
		json_tristate(config_state(o.config, "DMABUF_MOVE_NOTIFY") < 0 ? -1 :
			      !config_state(o.config, "DMABUF_MOVE_NOTIFY"));
		printf(",\"udmabuf\":%s,\"probe\":%s,\"devices\":[",
		       udmabuf ? "true" : "false", probe ? "true" : "false");
		for (unsigned int i = 0; i < n; i++) {
			printf("%s{\"driver\":", i ? "," : "");
			cli_json_string(stdout, devs[i].driver);
			printf(",\"primary_node\":");
			cli_json_string(stdout, devs[i].primary_node);
			printf(",\"render_node\":");
			cli_json_string(stdout, devs[i].render_node);
			printf(",\"pci_address\":");
			cli_json_string(stdout, devs[i].pci_address);
			printf(",\"vram_size\":%llu,\"visible_vram_size\":%llu}",
			       (unsigned long long)devs[i].vram_size,
			       (unsigned long long)devs[i].visible_vram_size);
		}
		printf("]}\n");
		return EXIT_OK;
	}

	printf("libp2pbuf %d.%d, kernel %s\n", P2PBUF_VERSION_MAJOR,
	       P2PBUF_VERSION_MINOR, uts.release);
	printf("kernel configuration:\n");
	for (size_t i = 0; i < sizeof(config_options) / sizeof(*config_options); i++) {
		int state;

		if (p2pbuf_kernel_config(o.config, config_options[i], &state))
			printf("  CONFIG_%-20s unknown (no /proc/config.gz or /boot/config)\n",
			       config_options[i]);
		else
			printf("  CONFIG_%-20s %s\n", config_options[i],
			       state ? "yes" : "no");
	}
	info_consequences(o.config);
	printf("udmabuf: %s\n", udmabuf ? "/dev/udmabuf" : "not available");
	printf("topology probe: %s\n", probe ? "loaded" :
	       "not loaded (insmod tests/probe/p2pbuf_probe.ko)");
	printf("DRM devices:%s\n", n ? "" : " none");
	for (unsigned int i = 0; i < n; i++) {
		char vram[32] = "", visible[32] = "";

		if (devs[i].vram_size) {
			cli_human_size(devs[i].vram_size, vram, sizeof(vram));
			cli_human_size(devs[i].visible_vram_size, visible,
				       sizeof(visible));
		}
		printf("  %-8s %-18s %-22s %-14s%s%s%s%s\n", devs[i].driver,
		       devs[i].primary_node[0] ? devs[i].primary_node : "-",
		       devs[i].render_node[0] ? devs[i].render_node : "-",
		       devs[i].pci_address[0] ? devs[i].pci_address : "(not PCI)",
		       vram[0] ? " VRAM " : "", vram,
		       vram[0] ? ", CPU-visible " : "", visible);
	}
	return EXIT_OK;
}

/* ---- ls ---- */

static void ls_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf ls [PID] [--json]\n"
		"\n"
		"List the dma-bufs process PID (default: this one) holds, from\n"
		"/proc/PID/fdinfo: descriptor, inode (equal for the same buffer),\n"
		"size, references, exporter and name.\n");
}

int cmd_ls(int argc, char **argv)
{
	struct p2pbuf_dmabuf_info *infos;
	struct opts o = { 0 };
	const char *pos[1];
	unsigned int n, max = 1024;
	pid_t pid = 0;
	int npos, ret;

	ret = cli_parse_options(argc, argv, "--json", &o, pos, 1, &npos, ls_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos && cli_parse_pid(pos[0], &pid)) {
		fprintf(stderr, "p2pbuf ls: '%s' is not a process id\n", pos[0]);
		return EXIT_USAGE;
	}
	infos = calloc(max, sizeof(*infos));
	if (!infos)
		return EXIT_FAILED;
	ret = p2pbuf_dmabuf_list(pid, infos, max, &n);
	if (ret) {
		fprintf(stderr, "p2pbuf ls: %s: %s\n", npos ? pos[0] : "self",
			strerror(-ret));
		free(infos);
		return EXIT_FAILED;
	}
	if (n > max)
		n = max;
	if (o.json) {
		printf("{\"pid\":%d,\"dmabufs\":[", pid ? (int)pid : (int)getpid());
		for (unsigned int i = 0; i < n; i++) {
			printf("%s{\"fd\":%d,\"inode\":%llu,\"size\":%llu,\"count\":%llu,\"exporter\":",
			       i ? "," : "", infos[i].fd,
			       (unsigned long long)infos[i].inode,
			       (unsigned long long)infos[i].size,
			       (unsigned long long)infos[i].count);
			cli_json_string(stdout, infos[i].exporter);
			printf(",\"name\":");
			cli_json_string(stdout, infos[i].name);
			printf("}");
		}
		printf("]}\n");
	} else if (!n) {
		printf("no dma-bufs\n");
	} else {
		printf("%-5s %-10s %-12s %-5s %-12s %s\n", "fd", "inode", "size",
		       "count", "exporter", "name");
		for (unsigned int i = 0; i < n; i++) {
			char size[32], exporter[4 * 64], name[4 * P2PBUF_NAME_LEN];

			cli_human_size(infos[i].size, size, sizeof(size));
			/* Names are anyone's: no raw control bytes to the terminal. */
			cli_escape(infos[i].exporter, exporter, sizeof(exporter));
			cli_escape(infos[i].name, name, sizeof(name));
			printf("%-5d %-10llu %-12s %-5llu %-12s %s\n", infos[i].fd,
			       (unsigned long long)infos[i].inode, size,
			       (unsigned long long)infos[i].count,
			       exporter, name[0] ? name : "-");
		}
	}
	free(infos);
	return EXIT_OK;
}

/* ---- alloc ---- */

/* A buffer made for a command: a device buffer or a udmabuf. */
struct made {
	struct p2pbuf_device *dev;
	struct p2pbuf_buffer *buf;
	int fd;
	char exporter[64];
};

static int make_buffer(const struct opts *o, struct made *m)
{
	struct p2pbuf_device_info info;
	int ret;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!o->device) {
		if (o->placement == P2PBUF_PLACEMENT_VRAM)
			return -EOPNOTSUPP;
		snprintf(m->exporter, sizeof(m->exporter), "udmabuf");
		return p2pbuf_udmabuf_create(o->size, &m->fd);
	}
	ret = p2pbuf_device_open(o->device, &m->dev);
	if (ret)
		return ret;
	p2pbuf_device_query(m->dev, &info);
	snprintf(m->exporter, sizeof(m->exporter), "%s", info.driver);
	ret = p2pbuf_buffer_alloc(m->dev, o->size, o->placement, 0, &m->buf);
	if (ret)
		goto err_dev;
	ret = p2pbuf_buffer_export(m->buf, &m->fd);
	if (ret)
		goto err_buf;
	return 0;
err_buf:
	p2pbuf_buffer_put(m->buf);
err_dev:
	p2pbuf_device_close(m->dev);
	m->dev = NULL;
	return ret;
}

static void free_buffer(struct made *m)
{
	if (m->fd >= 0)
		close(m->fd);
	if (m->buf)
		p2pbuf_buffer_put(m->buf);
	if (m->dev)
		p2pbuf_device_close(m->dev);
	m->fd = -1;
	m->buf = NULL;
	m->dev = NULL;
}

static void alloc_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf alloc --size SIZE [--device DEV | --udmabuf]\n"
		"                    [--placement any|vram|system] [--name NAME]\n"
		"                    [--pattern SEED] [--hold] [--json]\n"
		"\n"
		"Allocate a buffer and export it as a dma-buf. DEV is a device node,\n"
		"a PCI address or a driver name (see 'p2pbuf info'); without --device\n"
		"the buffer is system memory from /dev/udmabuf. --pattern fills it\n"
		"with the test pattern SEED. --hold keeps the process (and the\n"
		"buffer) alive until it is signalled or its stdin closes; the buffer\n"
		"is then PID:FD for 'p2pbuf fill', 'verify', 'ls' and 'explain'.\n"
		"SIZE takes K, M, G suffixes (powers of 1024).\n");
}

static void print_buffer(const struct opts *o, const struct made *m,
			 uint64_t size, unsigned int placement)
{
	const char *pl = "?";

	p2pbuf_placement_name(placement, &pl);
	if (o->json) {
		printf("{\"pid\":%d,\"fd\":%d,\"size\":%llu,\"placement\":\"%s\",\"exporter\":",
		       (int)getpid(), m->fd, (unsigned long long)size, pl);
		cli_json_string(stdout, m->exporter);
		printf(",\"name\":");
		cli_json_string(stdout, o->name ? o->name : "");
		printf("}\n");
	} else {
		char hs[32];

		cli_human_size(size, hs, sizeof(hs));
		printf("buffer %d:%d: %s of %s memory from %s%s%s\n",
		       (int)getpid(), m->fd, hs, pl, m->exporter,
		       o->name ? ", named " : "", o->name ? o->name : "");
	}
	fflush(stdout);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int cmd_alloc(int argc, char **argv)
{
	struct opts o = { .device = NULL, .size = 0 };
	unsigned int placement = P2PBUF_PLACEMENT_SYSTEM;
	struct made m;
	const char *pos[1];
	uint64_t size, bad;
	int npos, ret;

	ret = cli_parse_options(argc, argv,
		    "--size --device --udmabuf --placement --name --pattern --hold --json",
		    &o, pos, 0, &npos, alloc_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!o.size) {
		alloc_help(stderr);
		return EXIT_USAGE;
	}
	ret = make_buffer(&o, &m);
	if (ret) {
		fprintf(stderr, "p2pbuf alloc: %s: %s\n",
			o.device ? o.device : "/dev/udmabuf", strerror(-ret));
		return errno_exit(ret);
	}
	if (m.buf)
		p2pbuf_buffer_placement(m.buf, &placement);
	ret = p2pbuf_dmabuf_size(m.fd, &size);
	if (!ret && o.name)
		ret = p2pbuf_dmabuf_set_name(m.fd, o.name);
	if (!ret && o.have_pattern)
		ret = pattern_run(m.fd, o.pattern, 0, &bad);
	if (ret) {
		fprintf(stderr, "p2pbuf alloc: %s\n", strerror(-ret));
		free_buffer(&m);
		return EXIT_FAILED;
	}
	print_buffer(&o, &m, size, placement);
	if (o.hold) {
		struct sigaction sa = { .sa_handler = on_signal };
		char c;

		/* No SA_RESTART: a signal must end the read() below. */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		/* Until a signal or the end of stdin. */
		while (!stop && read(STDIN_FILENO, &c, 1) > 0)
			;
		while (!stop && isatty(STDIN_FILENO))
			pause();
	}
	free_buffer(&m);
	return EXIT_OK;
}

/* ---- fill / verify ---- */

static void fill_verify_text(FILE *out)
{
	fprintf(out,
		"\n"
		"Write the test pattern SEED into the dma-buf that process PID holds\n"
		"as descriptor FD, or check that it holds that pattern. The buffer is\n"
		"taken with pidfd_getfd() (needs ptrace rights over PID) and accessed\n"
		"inside DMA_BUF_IOCTL_SYNC brackets. verify exits 1 on a mismatch.\n");
}

static void fill_help(FILE *out)
{
	fprintf(out, "usage: p2pbuf fill PID:FD --pattern SEED [--json]\n");
	fill_verify_text(out);
}

static void verify_help(FILE *out)
{
	fprintf(out, "usage: p2pbuf verify PID:FD --pattern SEED [--json]\n");
	fill_verify_text(out);
}

static int fill_or_verify(int argc, char **argv, int verify)
{
	const char *cmd = verify ? "verify" : "fill";
	struct opts o = { 0 };
	const char *pos[1];
	uint64_t bad = 0;
	pid_t pid;
	int npos, ret, fd, rfd;

	void (*help)(FILE *out) = verify ? verify_help : fill_help;

	ret = cli_parse_options(argc, argv, "--pattern --json", &o, pos, 1, &npos, help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos != 1 || !o.have_pattern ||
	    cli_parse_buffer_ref(pos[0], &pid, &rfd)) {
		help(stderr);
		return EXIT_USAGE;
	}
	ret = p2pbuf_pidfd_getfd(pid, rfd, 0, &fd);
	if (ret) {
		fprintf(stderr, "p2pbuf %s: cannot take %s: %s\n", cmd, pos[0],
			strerror(-ret));
		return ret == -ENOSYS ? EXIT_UNAVAILABLE : EXIT_FAILED;
	}
	ret = pattern_run(fd, o.pattern, verify, &bad);
	close(fd);
	if (o.json) {
		printf("{\"buffer\":\"%s\",\"pattern\":%llu,\"ok\":%s", pos[0],
		       (unsigned long long)o.pattern, ret ? "false" : "true");
		if (ret == -EILSEQ)
			printf(",\"mismatch_at\":%llu", (unsigned long long)bad);
		printf("}\n");
	} else if (ret == -EILSEQ) {
		printf("%s: pattern %llu mismatch at byte %llu\n", pos[0],
		       (unsigned long long)o.pattern, (unsigned long long)bad);
	} else if (!ret) {
		printf("%s: %s pattern %llu\n", pos[0],
		       verify ? "holds" : "filled with",
		       (unsigned long long)o.pattern);
	}
	if (ret && ret != -EILSEQ)
		fprintf(stderr, "p2pbuf %s: %s: %s\n", cmd, pos[0], strerror(-ret));
	return ret ? EXIT_FAILED : EXIT_OK;
}

int cmd_fill(int argc, char **argv)
{
	return fill_or_verify(argc, argv, 0);
}

int cmd_verify(int argc, char **argv)
{
	return fill_or_verify(argc, argv, 1);
}

/* ---- share / attach ---- */

static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static int socket_address(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

static void share_text(FILE *out)
{
	fprintf(out,
		"\n"
		"share allocates N buffers (default 1), fills buffer i with the test\n"
		"pattern SEED+i, listens on the UNIX socket path SOCKET and hands all\n"
		"of them to the first process that attaches, in one SCM_RIGHTS\n"
		"message with libp2pbuf's metadata header. attach connects, receives\n"
		"the buffers, describes them, checks the pattern if given, and tells\n"
		"share the result: both exit 0 only if every buffer arrived intact.\n");
}

static void share_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf share SOCKET --size SIZE [--device DEV | --udmabuf]\n"
		"                    [--count N] [--placement P] [--name NAME]\n"
		"                    [--pattern SEED] [--json]\n");
	share_text(out);
}

static void attach_help(FILE *out)
{
	fprintf(out, "usage: p2pbuf attach SOCKET [--pattern SEED] [--json]\n");
	share_text(out);
}

int cmd_share(int argc, char **argv)
{
	struct opts o = { .count = 1 };
	struct made m[P2PBUF_MAX_BUFFERS];
	struct p2pbuf_meta meta[P2PBUF_MAX_BUFFERS];
	int fds[P2PBUF_MAX_BUFFERS];
	struct sockaddr_un sun;
	struct cli_bound bound = { 0 };
	unsigned int made = 0;
	const char *pos[1];
	uint64_t bad;
	int npos, ret, lsock = -1, sock = -1, rc = EXIT_FAILED;
	char reply = 0;

	ret = cli_parse_options(argc, argv,
		    "--size --device --udmabuf --count --placement --name --pattern --json",
		    &o, pos, 1, &npos, share_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos != 1 || !o.size || socket_address(pos[0], &sun)) {
		share_help(stderr);
		return EXIT_USAGE;
	}
	for (; made < o.count; made++) {
		ret = make_buffer(&o, &m[made]);
		if (ret) {
			fprintf(stderr, "p2pbuf share: %s\n", strerror(-ret));
			rc = errno_exit(ret);
			goto out;
		}
		fds[made] = m[made].fd;
		ret = p2pbuf_meta_init(fds[made], &meta[made]);
		meta[made].cookie = o.pattern + made;
		if (m[made].buf)
			p2pbuf_buffer_placement(m[made].buf, &meta[made].placement);
		else
			meta[made].placement = P2PBUF_PLACEMENT_SYSTEM;
		if (!ret && o.name) {
			snprintf(meta[made].name, sizeof(meta[made].name), "%s", o.name);
			ret = p2pbuf_dmabuf_set_name(fds[made], o.name);
		}
		if (!ret && o.have_pattern)
			ret = pattern_run(fds[made], o.pattern + made, 0, &bad);
		if (ret) {
			made++;
			fprintf(stderr, "p2pbuf share: %s\n", strerror(-ret));
			goto out;
		}
	}

	/* An existing file or socket at SOCKET is left alone, and not removed. */
	ret = cli_listen(pos[0], &lsock, &bound);
	if (ret) {
		fprintf(stderr, "p2pbuf share: %s: %s\n", pos[0], strerror(-ret));
		goto out;
	}
	if (!o.json) {
		printf("sharing %u buffer%s on %s\n", o.count,
		       o.count == 1 ? "" : "s", pos[0]);
		fflush(stdout);
	}
	sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0) {
		fprintf(stderr, "p2pbuf share: accept: %s\n", strerror(errno));
		goto out;
	}
	ret = p2pbuf_send(sock, fds, meta, o.count, 0);
	if (ret) {
		fprintf(stderr, "p2pbuf share: send: %s\n", strerror(-ret));
		goto out;
	}
	if (recv(sock, &reply, 1, 0) != 1 || reply != 'y') {
		fprintf(stderr, "p2pbuf share: the peer %s\n",
			reply == 'n' ? "found the data wrong" : "went away");
		goto out;
	}
	if (o.json) {
		printf("{\"socket\":");
		cli_json_string(stdout, pos[0]);
		printf(",\"buffers\":%u,\"ok\":true}\n", o.count);
	}
	else
		printf("the peer received %u buffer%s intact\n", o.count,
		       o.count == 1 ? "" : "s");
	rc = EXIT_OK;
out:
	if (sock >= 0)
		close(sock);
	if (lsock >= 0)
		cli_unlisten(pos[0], lsock, &bound);
	while (made--)
		free_buffer(&m[made]);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	struct p2pbuf_meta meta[P2PBUF_MAX_BUFFERS];
	int fds[P2PBUF_MAX_BUFFERS];
	struct opts o = { 0 };
	struct sockaddr_un sun;
	const char *pos[1];
	unsigned int n = 0;
	int npos, ret, sock, ok = 1;

	ret = cli_parse_options(argc, argv, "--pattern --json", &o, pos, 1, &npos, attach_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos != 1 || socket_address(pos[0], &sun)) {
		attach_help(stderr);
		return EXIT_USAGE;
	}
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sun, sizeof(sun))) {
		fprintf(stderr, "p2pbuf attach: %s: %s\n", pos[0], strerror(errno));
		if (sock >= 0)
			close(sock);
		return EXIT_FAILED;
	}
	ret = p2pbuf_recv(sock, fds, meta, P2PBUF_MAX_BUFFERS, &n, 0);
	if (ret) {
		fprintf(stderr, "p2pbuf attach: receive: %s\n", strerror(-ret));
		close(sock);
		return EXIT_FAILED;
	}
	if (o.json) {
		printf("{\"socket\":");
		cli_json_string(stdout, pos[0]);
		printf(",\"buffers\":[");
	}
	for (unsigned int i = 0; i < n; i++) {
		struct p2pbuf_dmabuf_info info = { .fd = fds[i] };
		char path[64], text[4096];
		const char *pl = "?";
		uint64_t bad = 0;
		int r = 0;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fds[i]);
		if (read_text(path, text, sizeof(text)) ||
		    p2pbuf_fdinfo_parse(text, &info))
			snprintf(info.exporter, sizeof(info.exporter), "?");
		if (o.have_pattern)
			r = pattern_run(fds[i], o.pattern + i, 1, &bad);
		if (r)
			ok = 0;
		p2pbuf_placement_name(meta[i].placement, &pl);
		if (o.json) {
			printf("%s{\"size\":%llu,\"offset\":%llu,\"length\":%llu,\"cookie\":%llu,\"placement\":\"%s\",\"exporter\":",
			       i ? "," : "", (unsigned long long)meta[i].size,
			       (unsigned long long)meta[i].offset,
			       (unsigned long long)meta[i].length,
			       (unsigned long long)meta[i].cookie, pl);
			cli_json_string(stdout, info.exporter);
			printf(",\"name\":");
			cli_json_string(stdout, meta[i].name);
			if (o.have_pattern)
				printf(",\"pattern_ok\":%s", r ? "false" : "true");
			printf("}");
		} else {
			char hs[32], exporter[4 * 64], name[4 * P2PBUF_NAME_LEN];

			cli_human_size(meta[i].size, hs, sizeof(hs));
			/* The peer chose the name: escaped for the terminal. */
			cli_escape(info.exporter, exporter, sizeof(exporter));
			cli_escape(meta[i].name, name, sizeof(name));
			printf("buffer %u: %s from %s, placement %s, cookie %llu, name %s%s\n",
			       i, hs, exporter, pl,
			       (unsigned long long)meta[i].cookie,
			       name[0] ? name : "-",
			       !o.have_pattern ? "" :
			       r == -EILSEQ ? ", PATTERN MISMATCH" :
			       r ? ", cannot read" : ", pattern ok");
		}
		close(fds[i]);
	}
	if (o.json)
		printf("],\"ok\":%s}\n", ok ? "true" : "false");
	if (send(sock, ok ? "y" : "n", 1, MSG_NOSIGNAL) != 1)
		ok = 0;
	close(sock);
	return ok ? EXIT_OK : EXIT_FAILED;
}

/* ---- explain ---- */

static void explain_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf explain PROVIDER|PID:FD PEER [--importer KIND] [--json]\n"
		"                      [--probe-dir DIR] [--sysfs DIR] [--kernel-config FILE]\n"
		"       p2pbuf explain FILE PID:FD [--compat] [--json]\n"
		"\n"
		"Would PEER get a peer-to-peer mapping of a buffer in PROVIDER's\n"
		"memory, and if not, why? PROVIDER is the PCI address of the device\n"
		"that holds the buffer, or a DRM device (node or driver name). PID:FD\n"
		"is a dma-buf that process PID holds as descriptor FD, taken with\n"
		"pidfd_getfd() (needs ptrace rights over PID): the answer is then for\n"
		"that buffer as it is (placement, pins, size), from its exporter.\n"
		"PEER is a PCI address. --importer says how PEER's driver imports\n"
		"dma-bufs: p2p (dynamic with allow_peer2peer, as RDMA does; the\n"
		"default), dynamic (without allow_peer2peer) or static; only p2p\n"
		"importers get device memory peer to peer. The kernel's verdict\n"
		"comes from the p2pbuf_probe matrix when it is loaded; otherwise\n"
		"the answer is derived from the kernel configuration and the PCI\n"
		"topology, and says so.\n"
		"Exit 0 with an answer (P2P or not), 1 if none can be given, 3 if\n"
		"PROVIDER names a device that is not there.\n"
		"\n"
		"p2pbuf explain FILE PID:FD (a regular file or a block device, and a\n"
		"dma-buf) says which path file I/O between them would take, and why\n"
		"(see 'p2pbuf read --help').\n");
}

int cmd_explain(int argc, char **argv)
{
	struct p2pbuf_explanation e;
	struct opts o = { 0 };
	struct p2pbuf_explain_source src;
	const char *pos[2], *provider, *map = "?", *reason = "?";
	const char *buffer = NULL;
	struct p2pbuf_device_info info;
	struct p2pbuf_device *dev;
	int npos, ret, fd, rfd;
	char exporter[32];
	pid_t pid;

	/* explain FILE PID:FD: a file I/O's path. */
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (argv[i][0] == '-')
			continue;
		if (!stat(argv[i], &st) &&
		    (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
			return cmd_explain_file(argc, argv);
		break;
	}
	ret = cli_parse_options(argc, argv, "--json --probe-dir --sysfs --kernel-config --importer", &o,
		    pos, 2, &npos, explain_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos != 2) {
		explain_help(stderr);
		return EXIT_USAGE;
	}
	provider = pos[0];
	src.sysfs_pci = o.sysfs;
	src.probe_dir = o.probe_dir;
	src.kernel_config = o.config;
	if (!cli_parse_buffer_ref(provider, &pid, &rfd)) {
		/* One buffer of another process, as its exporter keeps it. */
		ret = p2pbuf_pidfd_getfd(pid, rfd, 0, &fd);
		if (ret) {
			fprintf(stderr, "p2pbuf explain: cannot take %s: %s\n",
				provider, ret == -EBADFD ? "not a dma-buf" :
				strerror(-ret));
			return ret == -ENOSYS ? EXIT_UNAVAILABLE : EXIT_FAILED;
		}
		ret = p2pbuf_explain_dmabuf(fd, pos[1], &src, &e, exporter,
					    sizeof(exporter));
		close(fd);
		if (ret) {
			fprintf(stderr, "p2pbuf explain: %s: %s\n", provider,
				ret == -EINVAL ? "PEER must be a PCI address" :
				ret == -ENODEV ? "not exported by a p2pgem device or udmabuf: no answer for this exporter" :
				strerror(-ret));
			return ret == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
		}
		buffer = provider;
		provider = exporter;
		goto answer;
	} else if (strchr(provider, '/') || !strchr(provider, ':')) {
		/* A DRM device stands for its PCI function. */
		ret = p2pbuf_device_open(provider, &dev);
		if (ret) {
			fprintf(stderr, "p2pbuf explain: %s: %s\n", provider,
				strerror(-ret));
			return errno_exit(ret);
		}
		p2pbuf_device_query(dev, &info);
		p2pbuf_device_close(dev);
		if (!info.pci_address[0]) {
			if (!o.json) {
				printf("%s (%s) is not a PCI device: it has no device memory to share peer to peer\n",
				       provider, info.driver);
				return EXIT_OK;
			}
			printf("{\"provider\":");
			cli_json_string(stdout, provider);
			printf(",\"driver\":");
			cli_json_string(stdout, info.driver);
			printf(",\"client\":");
			cli_json_string(stdout, pos[1]);
			printf(",\"map\":\"none\",\"reason\":\"not-a-pci-device\"}\n");
			return EXIT_OK;
		}
		provider = info.pci_address;
	}
	ret = p2pbuf_explain(provider, pos[1], &src, &e);
	if (ret) {
		fprintf(stderr, "p2pbuf explain: %s\n",
			ret == -EINVAL ? "PROVIDER and PEER must be PCI addresses" :
			strerror(-ret));
		return ret == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
	}
answer:
	p2pbuf_explain_for_importer(&e, o.importer);
	p2pbuf_map_name(e.map, &map);
	p2pbuf_reason_name(e.reason, &reason);
	if (o.json) {
		printf("{");
		if (buffer)
			printf("\"buffer\":\"%s\",", buffer);
		printf("\"provider\":");
		cli_json_string(stdout, provider);
		printf(",\"client\":");
		cli_json_string(stdout, pos[1]);
		printf(",\"map\":\"%s\",\"reason\":\"%s\",\"kernel_reason\":",
		       map, reason);
		cli_json_string(stdout, e.reason_code);
		printf(",\"distance\":%d,\"dma\":%llu,\"kernel_verdict\":%s,\"common_upstream\":\"%s\",\"provider_iommu_group\":%d,\"client_iommu_group\":%d,\"pci_p2pdma\":%d,\"dmabuf_move_notify\":%d,\"text\":",
		       e.distance, (unsigned long long)e.dma_address,
		       e.kernel_verdict ? "true" : "false", e.common_upstream,
		       e.provider_iommu_group, e.client_iommu_group,
		       e.kernel_p2pdma, e.kernel_move_notify);
		cli_json_string(stdout, e.text);
		printf("}\n");
		return EXIT_OK;
	}
	if (buffer)
		printf("buffer %s, exported by %s\n", buffer, provider);
	printf("%s -> %s: %s\n", provider, pos[1], map);
	printf("  %s\n", e.text);
	printf("  verdict: %s\n", e.kernel_verdict ?
	       "the kernel's (p2pbuf_probe)" : "derived from sysfs and the kernel configuration");
	if (e.distance >= 0)
		printf("  pci_p2pdma_distance: %d\n", e.distance);
	if (e.dma_address)
		printf("  dma address: 0x%llx\n", (unsigned long long)e.dma_address);
	printf("  common upstream bridge: %s\n",
	       e.common_upstream[0] ? e.common_upstream : "none (host bridge)");
	if (e.provider_iommu_group >= 0 || e.client_iommu_group >= 0)
		printf("  IOMMU groups: provider %d, client %d\n",
		       e.provider_iommu_group, e.client_iommu_group);
	printf("  kernel: CONFIG_PCI_P2PDMA %s, CONFIG_DMABUF_MOVE_NOTIFY %s\n",
	       e.kernel_p2pdma < 0 ? "unknown" : e.kernel_p2pdma ? "yes" : "no",
	       e.kernel_move_notify < 0 ? "unknown" :
	       e.kernel_move_notify ? "yes" : "no");
	return EXIT_OK;
}
