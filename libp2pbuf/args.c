// SPDX-License-Identifier: MIT
/*
 * p2pbuf command-line tool: argument parsing and output helpers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"

int cli_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !out || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (!s || !out || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	if (*end) {
		u = strchr(units, end[0] & ~0x20);
		if (!u || !end[0])
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		/* "4M", "4MB", "4MiB" */
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (~0ull >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int cli_parse_pid(const char *s, pid_t *pid)
{
	uint64_t v;

	if (!s || !pid || cli_parse_u64(s, &v) || !v || v > 0x7fffffff)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

int cli_parse_buffer_ref(const char *s, pid_t *pid, int *fd)
{
	const char *colon;
	char head[24];
	uint64_t v;
	pid_t p;

	if (!s || !pid || !fd)
		return -EINVAL;
	colon = strchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(head))
		return -EINVAL;
	memcpy(head, s, (size_t)(colon - s));
	head[colon - s] = '\0';
	if (cli_parse_pid(head, &p) || cli_parse_u64(colon + 1, &v) ||
	    v > 0x7fffffff)
		return -EINVAL;
	*pid = p;
	*fd = (int)v;
	return 0;
}

int cli_parse_placement(const char *s, unsigned int *placement)
{
	const char *name;

	if (!s || !placement)
		return -EINVAL;
	for (unsigned int p = 0; !p2pbuf_placement_name(p, &name); p++) {
		if (!strcmp(s, name)) {
			*placement = p;
			return 0;
		}
	}
	return -EINVAL;
}

void cli_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void cli_human_size(uint64_t size, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (u < 4 && size >= 1024 && !(size % 1024)) {
		size /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)size, units[u]);
}
