// SPDX-License-Identifier: MIT
/*
 * libp2pbuf: the dma-bufs a process holds, from /proc/PID/fdinfo.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"

void p2pbuf__strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int p2pbuf__read_file(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if (len < 1)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len - 1) {
		n = read(fd, buf + off, len - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			return -err;
		}
		if (!n)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	return 0;
}

static int parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EBADMSG;
	errno = 0;
	*out = strtoull(s, &end, base);
	if (errno || (*end && *end != '\n'))
		return -EBADMSG;
	return 0;
}

/* Copy the rest of the line after "key:\t" into @dst. */
static void copy_value(char *dst, size_t len, const char *v)
{
	size_t n = strcspn(v, "\n");

	if (n > len - 1)
		n = len - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

int p2pbuf_fdinfo_parse(const char *text, struct p2pbuf_dmabuf_info *info)
{
	struct p2pbuf_dmabuf_info out;
	int have_exp = 0, have_size = 0, ret = 0;
	const char *line;

	if (!text || !info)
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(info, sizeof(*info));
	if (ret)
		return ret;
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	out.fd = info->fd;

	for (line = text; *line; ) {
		const char *colon = strchr(line, ':');
		const char *eol = strchr(line, '\n');
		const char *v;
		size_t klen;
		uint64_t x;

		if (!eol)
			eol = line + strlen(line);
		if (!colon || colon > eol)
			goto next;
		klen = (size_t)(colon - line);
		v = colon + 1;
		while (*v == '\t' || *v == ' ')
			v++;
		if (klen == 8 && !strncmp(line, "exp_name", 8)) {
			copy_value(out.exporter, sizeof(out.exporter), v);
			have_exp = 1;
		} else if (klen == 4 && !strncmp(line, "name", 4)) {
			/*
			 * The kernel prints the name last, as the owner set
			 * it: newlines included. All that follows is the name
			 * (but its final newline); nothing in it is a key.
			 */
			size_t n;

			v = colon + 1;
			if (*v == '\t')
				v++;
			n = strlen(v);
			if (n && v[n - 1] == '\n')
				n--;
			if (n > sizeof(out.name) - 1)
				n = sizeof(out.name) - 1;
			memcpy(out.name, v, n);
			out.name[n] = '\0';
			break;
		} else if (klen == 4 && !strncmp(line, "size", 4)) {
			ret = parse_u64(v, 10, &out.buf_size) ? -EBADMSG : ret;
			have_size = 1;
		} else if (klen == 5 && !strncmp(line, "count", 5)) {
			ret = parse_u64(v, 10, &out.count) ? -EBADMSG : ret;
		} else if (klen == 3 && !strncmp(line, "ino", 3)) {
			ret = parse_u64(v, 10, &out.inode) ? -EBADMSG : ret;
		} else if (klen == 5 && !strncmp(line, "flags", 5)) {
			if (parse_u64(v, 8, &x) || x > UINT32_MAX)
				ret = -EBADMSG;
			else
				out.flags = (uint32_t)x;
		}
next:
		line = *eol ? eol + 1 : eol;
	}
	if (!have_exp)
		return -ENOENT;
	if (ret)
		return ret;
	if (!have_size)
		return -EBADMSG;
	p2pbuf__struct_out(info, &out, sizeof(out));
	return 0;
}

static int fd_order(const void *a, const void *b)
{
	const struct p2pbuf_dmabuf_info *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

int p2pbuf_dmabuf_list(pid_t pid, struct p2pbuf_dmabuf_info *infos,
		       unsigned int max, unsigned int *count)
{
	char dir_path[48], path[72], text[4096];
	unsigned int n = 0, filled = 0;
	struct p2pbuf_dmabuf_info *found = NULL;
	struct dirent *de;
	DIR *dir;
	int ret, self;

	if (!count || (max && !infos) || pid < 0)
		return -EINVAL;
	if (max) {
		ret = p2pbuf__struct_out_ok(infos, sizeof(*infos));
		if (ret)
			return ret;
	}
	self = !pid || pid == getpid();
	/* Gathered aside: @infos stays as it was if anything fails. */
	if (max) {
		found = calloc(max, sizeof(*found));
		if (!found)
			return -ENOMEM;
	}
	/*
	 * The caller: the calling thread's descriptor table (thread-self),
	 * which need not be the main thread's (unshare(CLONE_FILES), or a
	 * main thread that has exited).
	 */
	if (self)
		snprintf(dir_path, sizeof(dir_path), "/proc/thread-self/fdinfo");
	else
		snprintf(dir_path, sizeof(dir_path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(dir_path);
	if (!dir) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		free(found);
		return ret;
	}
	while ((de = readdir(dir))) {
		struct p2pbuf_dmabuf_info info = { .size = sizeof(info) };
		char *end;
		long fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end || fd < 0 || fd > INT32_MAX)
			continue;
		/* Our own directory descriptor is not one of the process's. */
		if (self && fd == dirfd(dir))
			continue;
		snprintf(path, sizeof(path), "%s/%ld", dir_path, fd);
		ret = p2pbuf__read_file(path, text, sizeof(text));
		if (ret == -ENOENT)
			continue;	/* closed meanwhile */
		if (ret) {
			closedir(dir);
			free(found);
			return ret;
		}
		info.fd = (int)fd;
		if (p2pbuf_fdinfo_parse(text, &info))
			continue;
		if (filled < max)
			found[filled++] = info;
		n++;
	}
	closedir(dir);
	if (filled) {
		uint32_t stride = infos->size;

		qsort(found, filled, sizeof(found[0]), fd_order);
		for (unsigned int i = 0; i < filled; i++) {
			struct p2pbuf_dmabuf_info *e = P2PBUF__ELEM(infos, i, stride);

			memcpy(&e->size, &stride, sizeof(stride));
			p2pbuf__struct_out(e, &found[i], sizeof(found[i]));
		}
	}
	free(found);
	*count = n;
	return 0;
}
