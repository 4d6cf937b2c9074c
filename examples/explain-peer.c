// SPDX-License-Identifier: MIT
/*
 * explain-peer: would PEER get a peer-to-peer mapping of PROVIDER's memory?
 *
 *   explain-peer PROVIDER PEER     both PCI addresses, e.g. 0000:03:00.0
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <stdio.h>
#include <string.h>

#include <p2pbuf/p2pbuf.h>

int main(int argc, char **argv)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	const char *map = "?";
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: explain-peer PROVIDER PEER\n");
		return 2;
	}
	ret = p2pbuf_explain(argv[1], argv[2], NULL, &e);
	if (ret) {
		fprintf(stderr, "explain-peer: %s\n", strerror(-ret));
		return 1;
	}
	p2pbuf_map_name(e.map, &map);
	printf("%s: %s\n", map, e.text);
	return 0;
}
