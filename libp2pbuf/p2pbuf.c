// SPDX-License-Identifier: MIT
/*
 * p2pbuf: the command-line face of p2pbuf.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "info", cmd_info,
	  "kernel options, DRM devices and udmabuf: what p2pbuf can use here" },
	{ "topology", cmd_topology,
	  "the PCI peer-to-peer matrix: who reaches whose memory, and how" },
	{ "explain", cmd_explain,
	  "would a peer get a P2P mapping of a provider's memory, and why not" },
	{ "alloc", cmd_alloc,
	  "allocate a buffer, export it as a dma-buf (--hold keeps it)" },
	{ "fill", cmd_fill,
	  "write a test pattern into another process's dma-buf (PID:FD)" },
	{ "verify", cmd_verify,
	  "check a test pattern in another process's dma-buf (PID:FD)" },
	{ "share", cmd_share,
	  "hand buffers to another process over a UNIX socket" },
	{ "attach", cmd_attach,
	  "receive buffers from 'p2pbuf share' and check them" },
	{ "read", cmd_read,
	  "read a file or block device into another process's dma-buf" },
	{ "write", cmd_write,
	  "write another process's dma-buf to a file or block device" },
	{ "ls", cmd_ls,
	  "the dma-bufs a process holds, from /proc/PID/fdinfo" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: p2pbuf COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'p2pbuf COMMAND --help' describes a command.\n"
		"exit codes: 0 success, 1 failure, 2 usage, 3 kernel side missing\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "p2pbuf: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
