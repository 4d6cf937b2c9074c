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
	{ "topology", cmd_topology,
	  "the PCI peer-to-peer matrix: who reaches whose memory, and how" },
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
