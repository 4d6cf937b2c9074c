/* SPDX-License-Identifier: MIT */
/*
 * libp2pbuf: helpers shared by the library's files; not installed.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_INTERNAL_H
#define P2PBUF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define P2PBUF_EXPORT __attribute__((visibility("default")))

/*
 * The largest wire entry p2pbuf_meta_decode() and p2pbuf_recv() accept: a
 * later revision of the format may append fields up to this size.
 */
#define P2PBUF__WIRE_ENTRY_MAX 4096

/* Read a whole (small) file into @buf, NUL-terminated. */
int p2pbuf__read_file(const char *path, char *buf, size_t len);

/* Is @s a PCI address? Normalises "BB:DD.F" to "0000:BB:DD.F" into @out. */
int p2pbuf__pci_address(const char *s, char out[16]);

struct p2pbuf_explanation;

/* Write @out->text for the verdict and reason in @out. */
void p2pbuf__explain_say(struct p2pbuf_explanation *out, const char *provider,
			 const char *client);

/*
 * What the buffer or the importer rules out, @reason (an enum
 * p2pbuf_reason, > 0), replaces a device-level answer: map none, that
 * reason, its text. An answer about a missing device or the device itself
 * stays. Returns 1 if @e was replaced, else 0 (also for @reason <= 0).
 */
int p2pbuf__explain_rule_out(struct p2pbuf_explanation *e, int reason,
			     const char *provider, const char *client);

/* Copy with truncation and NUL termination. */
void p2pbuf__strlcpy(char *dst, const char *src, size_t len);

#endif
