// SPDX-License-Identifier: MIT
/*
 * p2pbuf commands built on libp2pbuf: info, ls, alloc, fill, verify, share,
 * attach, explain.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <dirent.h>
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
	struct p2pbuf_mapping map = { .size = sizeof(map) };
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

	P2PBUF_INIT_ARRAY(devs, 32);

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
		printf("{\"library\":\"%d.%d\",\"kernel\":", p2pbuf_version_major(),
		       p2pbuf_version_minor());
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

	printf("libp2pbuf %d.%d, kernel %s\n", p2pbuf_version_major(),
	       p2pbuf_version_minor(), uts.release);
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
		"List the dma-bufs process PID holds, from /proc/PID/fdinfo:\n"
		"descriptor, inode (equal for the same buffer), size, references,\n"
		"exporter and name. Without PID, those of every process whose\n"
		"descriptors this user may read (its own processes; root: all), with\n"
		"the process id and command; how many could not be read is said.\n"
		"Exit 3 if PID does not exist.\n");
}

/* /proc/PID/comm into @buf ("?" if gone). */
static void process_command(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_text(path, buf, len) || !buf[0])
		snprintf(buf, len, "?");
	buf[strcspn(buf, "\n")] = '\0';
}

/* The dma-bufs of @pid into *@infos (grown as needed); count in *@n. */
static int list_process(pid_t pid, struct p2pbuf_dmabuf_info **infos,
			unsigned int *max, unsigned int *n)
{
	int ret;

	for (;;) {
		ret = p2pbuf_dmabuf_list(pid, *infos, *max, n);
		if (ret || *n <= *max)
			return ret;
		free(*infos);
		*max = *n + 64;
		*infos = calloc(*max, sizeof(**infos));
		if (!*infos)
			return -ENOMEM;
		P2PBUF_INIT_ARRAY(*infos, *max);
	}
}

/* One process's entries; @all: with its pid and command. */
static void ls_print(const struct opts *o, pid_t pid, const char *comm,
		     const struct p2pbuf_dmabuf_info *infos, unsigned int n,
		     int all, unsigned int *shown)
{
	char c[4 * 16 + 1];

	cli_escape(comm, c, sizeof(c));
	for (unsigned int i = 0; i < n; i++) {
		char size[32], exporter[4 * 64], name[4 * P2PBUF_NAME_LEN];

		if (o->json) {
			printf("%s{\"pid\":%d,\"command\":", (*shown)++ ? "," : "",
			       (int)pid);
			cli_json_string(stdout, comm);
			printf(",\"fd\":%d,\"inode\":%llu,\"size\":%llu,\"count\":%llu,\"exporter\":",
			       infos[i].fd, (unsigned long long)infos[i].inode,
			       (unsigned long long)infos[i].buf_size,
			       (unsigned long long)infos[i].count);
			cli_json_string(stdout, infos[i].exporter);
			printf(",\"name\":");
			cli_json_string(stdout, infos[i].name);
			printf("}");
			continue;
		}
		if (!(*shown)++) {
			if (all)
				printf("%-7s %-15s ", "pid", "command");
			printf("%-5s %-10s %-12s %-5s %-12s %s\n", "fd", "inode",
			       "size", "count", "exporter", "name");
		}
		cli_human_size(infos[i].buf_size, size, sizeof(size));
		/* Names are anyone's: no raw control bytes to the terminal. */
		cli_escape(infos[i].exporter, exporter, sizeof(exporter));
		cli_escape(infos[i].name, name, sizeof(name));
		if (all)
			printf("%-7d %-15s ", (int)pid, c);
		printf("%-5d %-10llu %-12s %-5llu %-12s %s\n", infos[i].fd,
		       (unsigned long long)infos[i].inode, size,
		       (unsigned long long)infos[i].count,
		       exporter, name[0] ? name : "-");
	}
}

int cmd_ls(int argc, char **argv)
{
	struct p2pbuf_dmabuf_info *infos;
	struct opts o = { 0 };
	const char *pos[1];
	unsigned int n, max = 256, shown = 0, procs = 0, unreadable = 0;
	char comm[64];
	struct dirent *de;
	pid_t pid = 0;
	DIR *dir;
	int npos, ret;

	ret = cli_parse_options(argc, argv, "--json", &o, pos, 1, &npos, ls_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos && cli_parse_pid(pos[0], &pid))
		return cli_error(EXIT_USAGE, 0,
				 "'%s' is not a process id (decimal or 0x hexadecimal, above 0)",
				 pos[0]);
	infos = calloc(max, sizeof(*infos));
	if (!infos)
		return cli_error(EXIT_FAILED, -ENOMEM, "out of memory");
	P2PBUF_INIT_ARRAY(infos, max);
	if (npos) {
		ret = list_process(pid, &infos, &max, &n);
		if (ret) {
			free(infos);
			return cli_error(ret == -ESRCH ? EXIT_UNAVAILABLE : EXIT_FAILED,
					 ret, "process %d: %s", (int)pid,
					 ret == -ESRCH ? "no such process" :
					 ret == -EACCES || ret == -EPERM ?
					 "its descriptors are not readable: that needs ptrace rights over it (its user, or root)" :
					 strerror(-ret));
		}
		process_command(pid, comm, sizeof(comm));
		if (o.json) {
			printf("{\"pid\":%d,\"command\":", (int)pid);
			cli_json_string(stdout, comm);
			printf(",\"dmabufs\":[");
		}
		ls_print(&o, pid, comm, infos, n, 0, &shown);
		if (o.json)
			printf("]}\n");
		else if (!shown)
			printf("no dma-bufs\n");
		free(infos);
		return EXIT_OK;
	}

	/* Every process this user may look into. */
	dir = opendir("/proc");
	if (!dir) {
		ret = -errno;
		free(infos);
		return cli_error(EXIT_FAILED, ret, "/proc: %s", strerror(-ret));
	}
	if (o.json)
		printf("{\"dmabufs\":[");
	while ((de = readdir(dir))) {
		if (cli_parse_pid(de->d_name, &pid) || de->d_name[0] == '0')
			continue;
		ret = list_process(pid, &infos, &max, &n);
		if (ret == -ENOMEM) {
			closedir(dir);
			return cli_error(EXIT_FAILED, ret, "out of memory");
		}
		if (ret == -ESRCH || ret == -ENOENT)
			continue;	/* gone meanwhile */
		procs++;
		if (ret) {
			unreadable++;
			continue;
		}
		process_command(pid, comm, sizeof(comm));
		ls_print(&o, pid, comm, infos, n, 1, &shown);
	}
	closedir(dir);
	free(infos);
	if (o.json) {
		printf("],\"processes\":%u,\"unreadable\":%u}\n", procs, unreadable);
	} else {
		if (!shown)
			printf("no dma-bufs\n");
		if (unreadable)
			fprintf(stderr, "p2pbuf ls: the descriptors of %u of %u processes are not readable by this user\n",
				unreadable, procs);
	}
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
	struct p2pbuf_device_info info = { .size = sizeof(info) };
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
		"buffer) until SIGINT, SIGTERM or SIGHUP, or, when its stdin is a pipe\n"
		"or FIFO, until the writer closes it; /dev/null, a file or a terminal\n"
		"on stdin (as a background job has) do not end it. The buffer is\n"
		"then PID:FD for 'p2pbuf fill', 'verify', 'ls' and 'explain'.\n"
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

int cmd_alloc(int argc, char **argv)
{
	struct opts o = { .device = NULL, .size = 0 };
	unsigned int placement = P2PBUF_PLACEMENT_SYSTEM;
	struct cli_hold hold;
	struct made m;
	const char *pos[1];
	uint64_t size, bad;
	int npos, ret, what;

	ret = cli_parse_options(argc, argv,
		    "--size --device --udmabuf --placement --name --pattern --hold --json",
		    &o, pos, 0, &npos, alloc_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!o.size)
		return cli_error(EXIT_USAGE, 0, "missing --size SIZE");
	if (!o.device && o.placement == P2PBUF_PLACEMENT_VRAM)
		return cli_error(EXIT_USAGE, 0,
				 "--placement vram needs --device: udmabuf is system memory");
	ret = make_buffer(&o, &m);
	if (ret)
		return cli_error(errno_exit(ret), ret, "%s: %s",
				 o.device ? o.device : "/dev/udmabuf",
				 cli_error_words(CLI_OP_ALLOC, ret));
	if (m.buf)
		p2pbuf_buffer_placement(m.buf, &placement);
	what = CLI_OP_ALLOC;
	ret = p2pbuf_dmabuf_size(m.fd, &size);
	if (!ret && o.name)
		ret = p2pbuf_dmabuf_set_name(m.fd, o.name);
	if (!ret && o.have_pattern) {
		what = CLI_OP_ACCESS;
		ret = pattern_run(m.fd, o.pattern, 0, &bad);
	}
	if (ret) {
		free_buffer(&m);
		return cli_error(EXIT_FAILED, ret, "%s: %s",
				 what == CLI_OP_ACCESS ? "filling the buffer" :
				 o.name ? "naming the buffer" : "the buffer",
				 cli_error_words(what, ret));
	}
	/* Signals taken before the line that tells others whom to signal. */
	if (o.hold)
		cli_hold_start(&hold);
	print_buffer(&o, &m, size, placement);
	if (o.hold)
		cli_hold_wait(&hold, STDIN_FILENO);
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
		"inside DMA_BUF_IOCTL_SYNC brackets. Exit 1 on a mismatch (verify)\n"
		"or an error, 3 if process PID or its descriptor FD is not there.\n");
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
	struct opts o = { 0 };
	const char *pos[1];
	uint64_t bad = 0;
	int npos, ret, fd;
	void (*help)(FILE *out) = verify ? verify_help : fill_help;

	ret = cli_parse_options(argc, argv, "--pattern --json", &o, pos, 1, &npos, help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!npos)
		return cli_error(EXIT_USAGE, 0, "missing PID:FD");
	if (!o.have_pattern)
		return cli_error(EXIT_USAGE, 0, "missing --pattern SEED");
	ret = cli_take_buffer(pos[0], &fd);
	if (ret)
		return ret;
	ret = pattern_run(fd, o.pattern, verify, &bad);
	close(fd);
	if (ret && ret != -EILSEQ)
		return cli_error(EXIT_FAILED, ret, "%s: %s", pos[0],
				 cli_error_words(CLI_OP_ACCESS, ret));
	if (o.json) {
		printf("{\"buffer\":\"%s\",\"pattern\":%llu,\"ok\":%s", pos[0],
		       (unsigned long long)o.pattern, ret ? "false" : "true");
		if (ret == -EILSEQ)
			printf(",\"mismatch_at\":%llu", (unsigned long long)bad);
		printf("}\n");
	} else if (ret == -EILSEQ) {
		printf("%s: pattern %llu mismatch at byte %llu\n", pos[0],
		       (unsigned long long)o.pattern, (unsigned long long)bad);
	} else {
		printf("%s: %s pattern %llu\n", pos[0],
		       verify ? "holds" : "filled with",
		       (unsigned long long)o.pattern);
	}
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

	P2PBUF_INIT_ARRAY(meta, P2PBUF_MAX_BUFFERS);

	ret = cli_parse_options(argc, argv,
		    "--size --device --udmabuf --count --placement --name --pattern --json",
		    &o, pos, 1, &npos, share_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!npos)
		return cli_error(EXIT_USAGE, 0, "missing SOCKET");
	if (!o.size)
		return cli_error(EXIT_USAGE, 0, "missing --size SIZE");
	if (socket_address(pos[0], &sun))
		return cli_error(EXIT_USAGE, 0, "SOCKET '%s': %s", pos[0],
				 cli_error_words(CLI_OP_LISTEN, -ENAMETOOLONG));
	if (!o.device && o.placement == P2PBUF_PLACEMENT_VRAM)
		return cli_error(EXIT_USAGE, 0,
				 "--placement vram needs --device: udmabuf is system memory");
	for (; made < o.count; made++) {
		ret = make_buffer(&o, &m[made]);
		if (ret) {
			rc = cli_error(errno_exit(ret), ret, "%s: %s",
				       o.device ? o.device : "/dev/udmabuf",
				       cli_error_words(CLI_OP_ALLOC, ret));
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
			cli_error(EXIT_FAILED, ret, "buffer %u: %s", made - 1,
				  cli_error_words(CLI_OP_ACCESS, ret));
			goto out;
		}
	}

	/* An existing file or socket at SOCKET is left alone, and not removed. */
	ret = cli_listen(pos[0], &lsock, &bound);
	if (ret) {
		cli_error(EXIT_FAILED, ret, "%s: %s", pos[0],
			  cli_error_words(CLI_OP_LISTEN, ret));
		goto out;
	}
	if (!o.json) {
		printf("sharing %u buffer%s on %s\n", o.count,
		       o.count == 1 ? "" : "s", pos[0]);
		fflush(stdout);
	}
	sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0) {
		ret = -errno;
		cli_error(EXIT_FAILED, ret, "%s: waiting for a peer: %s", pos[0],
			  strerror(-ret));
		goto out;
	}
	ret = p2pbuf_send(sock, fds, meta, o.count, 0);
	if (ret) {
		cli_error(EXIT_FAILED, ret, "sending the buffers: %s",
			  cli_error_words(CLI_OP_PASS, ret));
		goto out;
	}
	if (recv(sock, &reply, 1, 0) != 1 || reply != 'y') {
		cli_error(EXIT_FAILED, 0, "the peer %s",
			  reply == 'n' ? "found the data wrong" :
			  "went away without saying whether the buffers arrived intact");
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

	P2PBUF_INIT_ARRAY(meta, P2PBUF_MAX_BUFFERS);

	ret = cli_parse_options(argc, argv, "--pattern --json", &o, pos, 1, &npos, attach_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!npos)
		return cli_error(EXIT_USAGE, 0, "missing SOCKET");
	if (socket_address(pos[0], &sun))
		return cli_error(EXIT_USAGE, 0, "SOCKET '%s': %s", pos[0],
				 cli_error_words(CLI_OP_LISTEN, -ENAMETOOLONG));
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		if (sock >= 0)
			close(sock);
		return cli_error(EXIT_FAILED, ret, "%s: %s", pos[0],
				 cli_error_words(CLI_OP_CONNECT, ret));
	}
	ret = p2pbuf_recv(sock, fds, meta, P2PBUF_MAX_BUFFERS, &n, 0);
	if (ret) {
		close(sock);
		return cli_error(EXIT_FAILED, ret, "receiving buffers: %s",
				 cli_error_words(CLI_OP_PASS, ret));
	}
	if (o.json) {
		printf("{\"socket\":");
		cli_json_string(stdout, pos[0]);
		printf(",\"buffers\":[");
	}
	for (unsigned int i = 0; i < n; i++) {
		struct p2pbuf_dmabuf_info info = { .size = sizeof(info), .fd = fds[i] };
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
			       i ? "," : "", (unsigned long long)meta[i].buf_size,
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

			cli_human_size(meta[i].buf_size, hs, sizeof(hs));
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
		"       p2pbuf explain rdma:DEV PID:FD [--json] [--sysfs-root DIR]\n"
		"                      [--probe-dir DIR] [--sysfs DIR] [--kernel-config FILE]\n"
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
		"Exit 0 with an answer (P2P or not), 1 if none can be given, 2 if\n"
		"PROVIDER or PEER is malformed, 3 if PROVIDER or PEER names a device\n"
		"(PCI function or DRM device), or PID:FD a process or descriptor,\n"
		"that is not there.\n"
		"\n"
		"p2pbuf explain FILE PID:FD (a regular file or a block device, and a\n"
		"dma-buf) says which path file I/O between them would take, and why\n"
		"(see 'p2pbuf read --help').\n"
		"\n"
		"p2pbuf explain rdma:DEV PID:FD (or PID:FD rdma:DEV; DEV an RDMA\n"
		"device as /sys/class/infiniband names it) says which path an RDMA\n"
		"transfer between DEV and the buffer takes through p2pbuf_rdma.ko\n"
		"('p2pbuf serve'), and why: p2p (an HCA whose PCI function reaches the\n"
		"buffer's memory peer to peer: the NIC DMAs into VRAM), system-memory\n"
		"(the NIC DMAs into system pages: no P2P for its function, or the\n"
		"buffer is in system memory), cpu-copy (rxe or siw: no DMA device,\n"
		"the CPU copies through the buffer's pages, even from VRAM), none\n"
		"(the module cannot: a software device whose netdev is no PCI\n"
		"function, or a udmabuf) or unknown (P2P undecided without the\n"
		"kernel's verdict). It also says which PCI function the module\n"
		"attaches the buffer for, whether DEV takes dma-buf MRs from\n"
		"userspace (ibv_reg_dmabuf_mr) and whether p2pbuf_rdma.ko is loaded.\n"
		"DEV is read from sysfs (--sysfs-root, default /sys). Exit 2 for a\n"
		"malformed rdma:DEV or PID:FD, 3 when DEV, the process or the\n"
		"descriptor is not there.\n");
}

/*
 * A PCI address given as @what: 0 if there, else EXIT_USAGE when it is not
 * an address, EXIT_UNAVAILABLE when no such function exists (said).
 */
static int pci_check(const struct p2pbuf_explain_source *src,
		     const char *what, const char *addr)
{
	struct p2pbuf_explain_source quick = *src;
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	int ret;

	/*
	 * The library's own parser and sysfs, asked about the pair (a, a);
	 * existence is decided before the kernel configuration is read.
	 */
	quick.kernel_config = "/dev/null";
	ret = p2pbuf_explain(addr, addr, &quick, &e);
	if (ret == -EINVAL)
		return cli_error(EXIT_USAGE, ret,
				 "%s '%s' is not a PCI address ([DOMAIN:]BUS:DEV.FN)",
				 what, addr);
	if (!ret && e.reason == P2PBUF_REASON_NO_SUCH_DEVICE)
		return cli_error(EXIT_UNAVAILABLE, -ENODEV,
				 "%s %s: no such PCI device", what, addr);
	return 0;
}

int cmd_explain(int argc, char **argv)
{
	struct stat st;
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	struct opts o = { 0 };
	struct p2pbuf_explain_source src = { .size = sizeof(src) };
	const char *pos[2], *provider, *map = "?", *reason = "?";
	const char *buffer = NULL, *rdma;
	struct p2pbuf_device_info info = { .size = sizeof(info) };
	struct p2pbuf_device *dev;
	int npos, ret, fd, rfd;
	char exporter[32];
	pid_t pid;

	o.importer = ~0u;	/* not given */
	ret = cli_parse_options(argc, argv,
				"--json --probe-dir --sysfs --sysfs-root --kernel-config --importer --compat",
				&o, pos, 2, &npos, explain_help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!npos)
		return cli_error(EXIT_USAGE, 0,
				 "missing PROVIDER (or PID:FD, FILE or rdma:DEV)");
	/* explain rdma:DEV PID:FD, either way round: an RDMA transfer's path. */
	if (cli_rdma_name(pos[0], &rdma) != -ENOENT ||
	    (npos > 1 && cli_rdma_name(pos[1], &rdma) != -ENOENT)) {
		int first = cli_rdma_name(pos[0], &rdma) != -ENOENT;

		if (npos < 2)
			return cli_error(EXIT_USAGE, 0, "missing PID:FD after %s",
					 pos[0]);
		if (o.importer != ~0u || o.file_flags)
			return cli_error(EXIT_USAGE, 0,
					 "explain rdma:DEV PID:FD takes only --json, --sysfs-root, --sysfs, --probe-dir and --kernel-config");
		return cmd_explain_rdma(&o, first ? pos[0] : pos[1],
					first ? pos[1] : pos[0]);
	}
	if (o.sysfs_root)
		return cli_error(EXIT_USAGE, 0,
				 "--sysfs-root is for explain rdma:DEV PID:FD");
	/* explain FILE PID:FD: a file I/O's path. */
	if (!stat(pos[0], &st) && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		if (npos < 2)
			return cli_error(EXIT_USAGE, 0, "missing PID:FD after FILE");
		if (o.importer != ~0u || o.probe_dir || o.sysfs || o.config)
			return cli_error(EXIT_USAGE, 0,
					 "explain FILE PID:FD takes only --compat and --json");
		return cmd_explain_file(&o, pos[0], pos[1]);
	}
	if (o.file_flags)
		return cli_error(EXIT_USAGE, 0,
				 "--compat is for explain FILE PID:FD; '%s' is not a file or block device",
				 pos[0]);
	if (npos < 2)
		return cli_error(EXIT_USAGE, 0, "missing PEER");
	if (o.importer == ~0u)
		o.importer = P2PBUF_IMPORTER_P2P;
	provider = pos[0];
	src.sysfs_pci = o.sysfs;
	src.probe_dir = o.probe_dir;
	src.kernel_config = o.config;
	/* PEER first: malformed is a usage error, missing is exit 3. */
	ret = pci_check(&src, "PEER", pos[1]);
	if (ret)
		return ret;
	if (!cli_parse_buffer_ref(provider, &pid, &rfd)) {
		/* One buffer of another process, as its exporter keeps it. */
		ret = cli_take_buffer(provider, &fd);
		if (ret)
			return ret;
		ret = p2pbuf_explain_dmabuf(fd, pos[1], &src, &e, exporter,
					    sizeof(exporter));
		close(fd);
		if (ret)
			return cli_error(ret == -EINVAL ? EXIT_USAGE : EXIT_FAILED, ret,
					 "%s: %s", provider,
					 ret == -EINVAL ? "PEER must be a PCI address" :
					 ret == -ENODEV ? "not exported by a p2pgem device or udmabuf: no answer for this exporter" :
					 strerror(-ret));
		buffer = provider;
		provider = exporter;
		goto answer;
	} else if (strchr(provider, '/') || !strchr(provider, ':')) {
		/* A DRM device stands for its PCI function. */
		ret = p2pbuf_device_open(provider, &dev);
		if (ret)
			return cli_error(errno_exit(ret), ret, "PROVIDER %s: %s", provider,
					 ret == -ENODEV ? "no such device, and not a PCI address ('p2pbuf info' lists the devices)" :
					 strerror(-ret));
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
	ret = pci_check(&src, "PROVIDER", provider);
	if (ret)
		return ret;
	ret = p2pbuf_explain(provider, pos[1], &src, &e);
	if (ret)
		return cli_error(ret == -EINVAL ? EXIT_USAGE : EXIT_FAILED, ret,
				 "%s", ret == -EINVAL ? "PROVIDER and PEER must be PCI addresses" :
				 strerror(-ret));
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
