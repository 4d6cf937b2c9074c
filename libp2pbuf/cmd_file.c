// SPDX-License-Identifier: MIT
/*
 * p2pbuf read, write and explain FILE PID:FD: file I/O with another
 * process's dma-buf, through libp2pbuf's file API.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"

/* Each I/O is at most this much: the progress line moves between them. */
#define STEP (16ull << 20)

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void file_text(FILE *out)
{
	fprintf(out,
		"\n"
		"read copies LENGTH bytes of FILE (a regular file or a block device)\n"
		"from --file-offset into the dma-buf that process PID holds as\n"
		"descriptor FD, at --offset; write copies them the other way. Without\n"
		"--length, as much as fits in both. The buffer is taken with\n"
		"pidfd_getfd() (needs ptrace rights over PID) and must be writable\n"
		"for read (a PRIME export with DRM_RDWR). Each step takes the best\n"
		"path libp2pbuf finds: p2p (the storage device DMAs into the buffer's\n"
		"device memory, p2pbuf_nvme.ko), direct-system (it DMAs into the\n"
		"buffer's system pages), or compat (O_DIRECT through RAM here and a\n"
		"CPU copy into the buffer); --no-compat fails instead of compat,\n"
		"--compat forces it. write needs --create to make FILE; a write to a\n"
		"block device stays within it. A progress line goes to stderr on a\n"
		"terminal;\n"
		"the path(s) taken are printed at the end. 'p2pbuf explain FILE\n"
		"PID:FD' says which path an I/O would take, and why.\n"
		"Exit 0 when every byte moved, 1 on an error, 3 when the buffer or\n"
		"the kernel side is missing.\n");
}

static void read_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf read FILE PID:FD [--offset N] [--file-offset N]\n"
		"                   [--length N] [--compat | --no-compat] [--json]\n");
	file_text(out);
}

static void write_help(FILE *out)
{
	fprintf(out,
		"usage: p2pbuf write FILE PID:FD [--offset N] [--file-offset N]\n"
		"                    [--length N] [--compat | --no-compat] [--create]\n"
		"                    [--json]\n");
	file_text(out);
}

/* Exit code for taking a buffer: a missing process or descriptor is 3. */
static int take_exit(int err)
{
	return err == -ENOSYS || err == -ESRCH || err == -EBADF ?
	       EXIT_UNAVAILABLE : EXIT_FAILED;
}

int cli_take_buffer(const char *ref, int *fd)
{
	pid_t pid;
	int rfd, ret;

	if (cli_parse_buffer_ref(ref, &pid, &rfd))
		return cli_error(EXIT_USAGE, 0,
				 "'%s' is not PID:FD (a process id and its descriptor number, as 'p2pbuf alloc' prints)",
				 ref);
	/* Checks that it is a dma-buf; *fd is set only on success. */
	ret = p2pbuf_pidfd_getfd(pid, rfd, 0, fd);
	if (ret)
		return cli_error(take_exit(ret), ret, "cannot take %s: %s", ref,
				 cli_error_words(CLI_OP_TAKE, ret));
	return EXIT_OK;
}

static int file_cmd(int argc, char **argv, int write)
{
	const char *cmd = write ? "write" : "read", *pos[2], *name = "?";
	void (*help)(FILE *out) = write ? write_help : read_help;
	uint64_t bsize = 0, fsize = 0, length, done = 0, cpu = 0;
	struct p2pbuf_io_info info = { .size = sizeof(info) };
	unsigned int paths = 0, p;
	struct p2pbuf_file *file;
	struct opts o = { 0 };
	int npos, ret, fd, buf, limited, printed = 0;
	char total[32], now[32];
	struct stat st;
	double start, took;

	ret = cli_parse_options(argc, argv,
				write ? "--offset --file-offset --length --compat --no-compat --create --json" :
					"--offset --file-offset --length --compat --no-compat --json",
				&o, pos, 2, &npos, help);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (npos < 2)
		return cli_error(EXIT_USAGE, 0, "missing %s", npos ? "PID:FD" : "FILE");
	ret = cli_take_buffer(pos[1], &buf);
	if (ret)
		return ret;
	/* Only --create makes a file: a mistyped device would become one. */
	fd = open(pos[0], (write ? O_WRONLY : O_RDONLY) |
		  (o.create ? O_CREAT : 0) | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		close(buf);
		return cli_error(EXIT_FAILED, ret, "%s: %s%s", pos[0], strerror(-ret),
				 ret == -ENOENT && write && !o.create ?
				 " (--create makes it)" : "");
	}
	ret = p2pbuf_dmabuf_size(buf, &bsize);
	if (!ret && fstat(fd, &st))
		ret = -errno;
	if (!ret)
		/* Regular files by their size, block devices by seeking. */
		ret = p2pbuf_dmabuf_size(fd, &fsize);
	if (ret)
		goto out;
	/* A read stays within the file, a write within a device. */
	limited = !write || S_ISBLK(st.st_mode);
	if (o.offset > bsize || (limited && o.file_offset > fsize)) {
		cli_error(EXIT_FAILED, -EINVAL, "%s %llu is past the end of %s (%llu bytes)",
			  o.offset > bsize ? "--offset" : "--file-offset",
			  (unsigned long long)(o.offset > bsize ? o.offset : o.file_offset),
			  o.offset > bsize ? pos[1] : pos[0],
			  (unsigned long long)(o.offset > bsize ? bsize : fsize));
		close(fd);
		close(buf);
		return EXIT_FAILED;
	}
	length = bsize - o.offset;
	if (limited && fsize - o.file_offset < length)
		length = fsize - o.file_offset;
	if (o.length) {
		if (o.length > length) {
			cli_error(EXIT_FAILED, -EINVAL,
				  "--length %llu does not fit: %llu bytes at most",
				  (unsigned long long)o.length,
				  (unsigned long long)length);
			close(fd);
			close(buf);
			return EXIT_FAILED;
		}
		length = o.length;
	}
	if (!length) {
		cli_error(EXIT_FAILED, -EINVAL, "nothing to move: %s ends at the offset given",
			  limited && fsize - o.file_offset < bsize - o.offset ? pos[0] : pos[1]);
		close(fd);
		close(buf);
		return EXIT_FAILED;
	}
	ret = p2pbuf_file_open(fd, o.file_flags, &file);
	if (ret)
		goto out;
	cli_human_size(length, total, sizeof(total));
	start = seconds();
	while (!ret && done < length) {
		uint64_t n = length - done < STEP ? length - done : STEP;

		P2PBUF_INIT(info);
		if (write)
			ret = p2pbuf_file_write(file, buf, o.offset + done, n,
						o.file_offset + done, &info);
		else
			ret = p2pbuf_file_read(file, buf, o.offset + done, n,
					       o.file_offset + done, &info);
		if (ret)
			break;
		paths |= 1u << info.path;
		cpu += info.cpu_bytes;
		done += n;
		if (isatty(STDERR_FILENO) && !o.json) {
			p2pbuf_io_path_name(info.path, &name);
			cli_human_size(done, now, sizeof(now));
			fprintf(stderr, "\r%s %s of %s (%3.0f%%), %s   ", cmd, now,
				total, 100.0 * (double)done / (double)length,
				name);
		}
	}
	took = seconds() - start;
	p2pbuf_file_close(file);
	if (isatty(STDERR_FILENO) && !o.json && done)
		fprintf(stderr, "\n");
	if (o.json) {
		printed = 1;
		printf("{\"command\":\"%s\",\"file\":", cmd);
		cli_json_string(stdout, pos[0]);
		printf(",\"buffer\":\"%s\",\"offset\":%llu,\"file_offset\":%llu,\"length\":%llu,\"done\":%llu,\"seconds\":%.6f,\"paths\":[",
		       pos[1], (unsigned long long)o.offset,
		       (unsigned long long)o.file_offset,
		       (unsigned long long)length, (unsigned long long)done,
		       took);
		for (p = 0, npos = 0; p <= P2PBUF_IO_PATH_COMPAT; p++) {
			if (!(paths & 1u << p))
				continue;
			p2pbuf_io_path_name(p, &name);
			printf("%s\"%s\"", npos++ ? "," : "", name);
		}
		printf("],\"cpu_bytes\":%llu,\"ok\":%s",
		       (unsigned long long)cpu, ret ? "false" : "true");
		if (ret) {
			printf(",\"error\":");
			cli_json_string(stdout, strerror(-ret));
		}
		printf("}\n");
	} else if (done) {
		cli_human_size(done, now, sizeof(now));
		printf("%s %s %s %s at %llu, file offset %llu: %s in %.3f s, path",
		       write ? "wrote" : "read", now, write ? "to" : "from",
		       pos[0], (unsigned long long)o.offset,
		       (unsigned long long)o.file_offset,
		       done == length ? "all of it" : "part", took);
		for (p = 0; p <= P2PBUF_IO_PATH_COMPAT; p++) {
			if (!(paths & 1u << p))
				continue;
			p2pbuf_io_path_name(p, &name);
			printf(" %s", name);
		}
		if (cpu) {
			cli_human_size(cpu, now, sizeof(now));
			printf(" (%s of it by the CPU)", now);
		}
		printf("\n");
	}
out:
	/* A JSON result above has said it already; else the error object. */
	if (ret && o.json && printed)
		fprintf(stderr, "p2pbuf %s: %s %s %s: %s\n", cmd, pos[0],
			write ? "from" : "into", pos[1], strerror(-ret));
	else if (ret)
		cli_error(EXIT_FAILED, ret, "%s %s %s: %s", pos[0],
			  write ? "from" : "into", pos[1], strerror(-ret));
	close(fd);
	close(buf);
	return ret ? EXIT_FAILED : EXIT_OK;
}

int cmd_read(int argc, char **argv)
{
	return file_cmd(argc, argv, 0);
}

int cmd_write(int argc, char **argv)
{
	return file_cmd(argc, argv, 1);
}

/*
 * explain FILE PID:FD [--compat] [--json]: which path an I/O between them
 * would take, and why. cmd_explain() hands over when its first argument
 * is a regular file or a block device.
 */
int cmd_explain_file(const struct opts *o, const char *file, const char *ref)
{
	struct p2pbuf_file_explanation e = { .size = sizeof(e) };
	const char *pos[2] = { file, ref }, *path = "?", *map = "?";
	struct p2pbuf_file *f;
	int ret, fd, buf;

	ret = cli_take_buffer(pos[1], &buf);
	if (ret)
		return ret;
	fd = open(pos[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		close(buf);
		return cli_error(EXIT_FAILED, ret, "%s: %s", pos[0], strerror(-ret));
	}
	ret = p2pbuf_file_open(fd, o->file_flags, &f);
	if (!ret) {
		ret = p2pbuf_file_explain(f, buf, &e);
		p2pbuf_file_close(f);
	}
	close(fd);
	close(buf);
	if (ret)
		return cli_error(EXIT_FAILED, ret, "%s and %s: %s", pos[0], pos[1],
				 strerror(-ret));
	p2pbuf_io_path_name(e.path, &path);
	p2pbuf_map_name(e.exporter.map, &map);
	if (o->json) {
		printf("{\"file\":");
		cli_json_string(stdout, pos[0]);
		printf(",\"buffer\":\"%s\",\"path\":\"%s\",\"reason\":", pos[1],
		       path);
		cli_json_string(stdout, e.reason);
		printf(",\"block_device\":");
		cli_json_string(stdout, e.block_device);
		printf(",\"pci\":");
		cli_json_string(stdout, e.pci);
		printf(",\"queue_p2p\":%d,\"exporter_map\":\"%s\",\"text\":",
		       e.queue_p2p, map);
		cli_json_string(stdout, e.text);
		printf("}\n");
		return EXIT_OK;
	}
	printf("%s <-> %s: %s\n", pos[0], pos[1], path);
	printf("  %s\n", e.text);
	printf("  block device: %s, PCI function: %s, queue P2P: %s\n",
	       e.block_device[0] ? e.block_device : "?",
	       e.pci[0] ? e.pci : "none",
	       e.queue_p2p < 0 ? "not asked" : e.queue_p2p ? "yes" : "no");
	if (e.exporter.map != P2PBUF_MAP_UNKNOWN)
		printf("  exporter's answer for %s: %s\n", e.pci, map);
	return EXIT_OK;
}
