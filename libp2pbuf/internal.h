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
struct p2pbuf_explain_source;

/* The caller's @src (NULL: defaults) and @e, checked, into the library's. */
int p2pbuf__explain_source_in(const struct p2pbuf_explain_source *src,
			      struct p2pbuf_explain_source *s);
int p2pbuf__explanation_in(const struct p2pbuf_explanation *e,
			   struct p2pbuf_explanation *k);

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

/*
 * The caller's structures (the rules in p2pbuf.h): each starts with
 * "uint32_t size", the caller's sizeof().
 *
 * p2pbuf__struct_in() copies the structure at @src, of its own size, into
 * @dst, @ksize bytes (the library's sizeof()): -EINVAL when smaller,
 * -E2BIG when larger than 4096 or with a non-zero byte past @ksize.
 *
 * p2pbuf__struct_out_ok() checks that a structure the library will fill
 * says a size it can fill (so a failure leaves the output untouched), and
 * p2pbuf__struct_out() fills it: @ksize bytes of @src, then zeros up to
 * its size, which it keeps.
 *
 * p2pbuf__zero() is whether @len bytes at @p are all zero.
 */
#define P2PBUF__STRUCT_MAX 4096
int p2pbuf__struct_in(void *dst, size_t ksize, const void *src);
int p2pbuf__struct_out_ok(const void *dst, size_t ksize);
void p2pbuf__struct_out(void *dst, const void *src, size_t ksize);
int p2pbuf__zero(const void *p, size_t len);

/* Element @i of an array of caller's structures @stride bytes apart. */
#define P2PBUF__ELEM(base, i, stride) \
	((__typeof__(base))((char *)(base) + (size_t)(i) * (stride)))

/* Copy with truncation and NUL termination. */
void p2pbuf__strlcpy(char *dst, const char *src, size_t len);

#endif
