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
	{ "serve", cmd_serve,
	  "serve a buffer (PID:FD) to remote RDMA peers until SIGINT/SIGTERM" },
	{ "rdma-read", cmd_rdma_read,
	  "read a remote served buffer's range into a file over RDMA" },
	{ "rdma-write", cmd_rdma_write,
	  "write a file into a remote served buffer's range over RDMA" },
	{ "ls", cmd_ls,
	  "the dma-bufs a process holds, from /proc/PID/fdinfo" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: p2pbuf COMMAND [ARGS]\n"
		"       p2pbuf help [COMMAND] | --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'p2pbuf COMMAND --help' describes a command. Options go before or\n"
		"after arguments, as --opt VALUE or --opt=VALUE; after --, only arguments.\n"
		"exit codes: 0 success, 1 failure, 2 usage, 3 something named or needed\n"
		"(device, process, buffer, kernel feature) is not there\n");
}

static int find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return (int)i;
	return -1;
}

int cli_main(int argc, char **argv)
{
	char *help_argv[3];
	int c;

	cli_command = NULL;
	cli_json = 0;
	if (argc < 2)
		return cli_error(EXIT_USAGE, 0, "missing COMMAND");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		cli_version(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc > 3)
			return cli_error(EXIT_USAGE, 0, "unexpected argument '%s'", argv[3]);
		c = find_command(argv[2]);
		if (c < 0)
			return cli_error(EXIT_USAGE, 0, "unknown command '%s'", argv[2]);
		help_argv[0] = argv[2];
		help_argv[1] = (char *)"--help";
		help_argv[2] = NULL;
		return commands[c].run(2, help_argv);
	}
	if (argv[1][0] == '-')
		return cli_error(EXIT_USAGE, 0, "unknown option '%s' (options go after COMMAND)",
				 argv[1]);
	c = find_command(argv[1]);
	if (c < 0)
		return cli_error(EXIT_USAGE, 0, "unknown command '%s'", argv[1]);
	cli_command = commands[c].name;
	/* Errors before the parser reaches --json are JSON objects too. */
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			cli_json = 1;
	return commands[c].run(argc - 1, argv + 1);
}
