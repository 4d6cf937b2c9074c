#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
"""Write one section-3 man page per function of include/p2pbuf/p2pbuf.h
(libp2pbuf) or include/p2pbuf/p2pbuf_rdma.h (libp2pbuf-rdma).

Each page is made from the function's doc comment in the header (its
summary line, @parameters, text and "Return:"), its prototype, and the
doc comments of the caller-allocated structures it takes; the rules every
function follows are in libp2pbuf(3). A function documented as the same
function under an older name gets a page that is a .so link.

    mkman3.py HEADER OUTDIR       write OUTDIR/p2pbuf_*.3
    mkman3.py --check HEADER DIR  exit 1 if DIR's pages differ from HEADER's

The pages are generated into the tree and committed (the install needs no
Python); `make -C libp2pbuf check` runs --check so they stay true.
"""
import os
import re
import sys

DATE = "2026"
ALIASES = {"p2pbuf_device_info": "p2pbuf_device_query"}
# Functions that return a value, not 0 or -errno.
VALUES = {"p2pbuf_version_major", "p2pbuf_version_minor"}
# Per header: what a page says about where the function is, and the
# library's version script (next to this directory), whose node a
# function is in says since which version it is there.
LIBS = {
    "p2pbuf.h": {"link": "Link with \\fI\\-lp2pbuf\\fP (pkg\\-config libp2pbuf).",
                 "lib": "libp2pbuf", "map": "libp2pbuf.map"},
    "p2pbuf_rdma.h": {"link": "Link with \\fI\\-lp2pbuf\\-rdma\\fP "
                              "(it links librdmacm and libibverbs).",
                      "lib": "libp2pbuf\\-rdma", "map": "libp2pbuf-rdma.map"},
}
MAPDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)


def versions(mapname):
    """{function: version node} from a version script."""
    nodes, node = {}, None
    for line in open(os.path.join(MAPDIR, mapname)):
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^([A-Z][A-Z0-9_.]*)\s*\{", line)
        if m:
            node = m.group(1)
            continue
        if line.startswith("}"):
            node = None
            continue
        m = re.match(r"^(p2pbuf_[a-z0-9_]+);$", line)
        if m and node:
            nodes[m.group(1)] = node
    return nodes


def version_line(lib, node):
    """"libp2pbuf 1.0 (symbol version P2PBUF_1.0)." for @node."""
    return "%s %s (symbol version %s)." % (lib["lib"],
                                          node.rsplit("_", 1)[1], node)


def roff(text):
    """Escape running text for roff."""
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    out = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def text(t):
    """Running text: @param in italics, %CONSTANT and name() in bold."""
    t = roff(t)
    t = re.sub(r"@([A-Za-z_][A-Za-z0-9_]*)", r"\\fI\1\\fP", t)
    t = re.sub(r"%([A-Z][A-Z0-9_]*)", r"\\fB\1\\fP", t)
    t = re.sub(r"\b(p2pbuf_[a-z0-9_]+)\(\)", r"\\fB\1\\fP()", t)
    return t


def synopsis(proto):
    """The prototype as the header writes it, continuations under "("."""
    lines = proto.split("\n")
    indent = " " * (lines[0].index("(") + 1)
    out = [lines[0]] + [indent + l.strip() for l in lines[1:]]
    return roff("\n".join(out))


def clean_comment(body):
    """The text of a /** ... */ comment, without its stars. A tab after
    the star stays: it indents a continuation (" *\tmore of @param")."""
    lines = []
    for line in body.split("\n"):
        line = re.sub(r"^\s*\*( |$)?", "", line, count=1)
        lines.append(line.rstrip())
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def parse_doc(lines):
    """Summary, [(param, text)], [paragraphs], return text."""
    first = lines[0].strip()
    m = re.match(r"^(?:struct |enum )?([A-Za-z0-9_]+)(?:\(\))?\s+-\s+(.*)$",
                 first)
    summary = m.group(2) if m else first
    i = 1
    # A summary may wrap onto the following lines, up to the parameters.
    while i < len(lines) and lines[i].strip() and not lines[i].startswith("@"):
        if re.match(r"^\S", lines[i]) and i > 1:
            break
        summary += " " + lines[i].strip()
        i += 1
    params = []
    while i < len(lines) and re.match(r"^@[A-Za-z0-9_]+:", lines[i]):
        pm = re.match(r"^@([A-Za-z0-9_]+):\s*(.*)$", lines[i])
        text = pm.group(2)
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
            text += " " + lines[i].strip()
            i += 1
        params.append((pm.group(1), text))
    paras, ret, cur = [], None, []
    in_ret = False
    for line in lines[i:]:
        if line.startswith("Return:"):
            if cur:
                paras.append(" ".join(cur))
            cur, in_ret = [line[len("Return:"):].strip()], True
            continue
        if not line.strip():
            if cur:
                if in_ret:
                    ret = " ".join(cur)
                else:
                    paras.append(" ".join(cur))
            cur, in_ret = [], False
            continue
        cur.append(line.strip())
    if cur:
        if in_ret:
            ret = " ".join(cur)
        else:
            paras.append(" ".join(cur))
    # A "Return:" that starts mid-paragraph ("... Return: -ENOENT when").
    for k, p in enumerate(paras):
        if ret is None and " Return: " in p:
            paras[k], ret = p.split(" Return: ", 1)
    return summary, params, [p for p in paras if p], ret


def parse_header(path):
    src = open(path).read()
    funcs, structs = {}, {}
    for m in re.finditer(r"/\*\*(.*?)\*/\s*", src, re.S):
        lines = clean_comment(m.group(1))
        if not lines:
            continue
        rest = src[m.end():]
        sm = re.match(r"struct (p2pbuf_[a-z_]+) \{.*?\n\};", rest, re.S)
        if sm:
            structs[sm.group(1)] = (parse_doc(lines), sm.group(0))
            continue
        fm = re.match(r"(?:#ifndef __cplusplus\s*)?((?:const )?[a-z_0-9 ]+[ *]+(p2pbuf_[a-z0-9_]+)\((.*?)\);)", rest, re.S)
        if fm and re.match(r"\s*" + re.escape(fm.group(2)) + r"\(\)", lines[0]):
            # Summaries written on one line: "/** name() - text. */"
            doc = lines
            if len(doc) == 1:
                doc = [doc[0].rstrip(".")]
            funcs[fm.group(2)] = (parse_doc(doc), fm.group(1))
    return funcs, structs


def page(name, func, structs, all_funcs, hname, node):
    (summary, params, paras, ret), proto = func
    lib = LIBS[hname]
    out = [".\\\" SPDX-License-Identifier: MIT",
           ".\\\" Copyright (c) 2026 The p2pbuf authors",
           ".\\\" Generated by libp2pbuf/man/mkman3.py from include/p2pbuf/" + hname,
           '.TH %s 3 %s p2pbuf "libp2pbuf manual"' % (name.upper(), DATE),
           ".SH NAME",
           "%s \\- %s" % (", ".join([name] + [a for a, t in ALIASES.items()
                                            if t == name]),
                          roff(re.sub(r"[@%]([A-Za-z_])", r"\1", summary))),
           ".SH SYNOPSIS",
           ".nf",
           ".B #include <p2pbuf/%s>" % hname,
           ".PP",
           synopsis(proto),
           ".fi",
           ".PP",
           lib["link"],
           ".SH DESCRIPTION"]
    if paras:
        for p in paras:
            out += [text(p), ".PP"]
    else:
        out += [text(summary[:1].upper() + summary[1:]) + ".", ".PP"]
    if params:
        out += ["Arguments:"]
        for pname, ptext in params:
            out += [".TP", ".I " + pname, text(ptext)]
        out += [".PP"]
    used = [s for s in re.findall(r"struct (p2pbuf_[a-z_]+) \*", proto)
            if s in structs]
    for s in dict.fromkeys(used):
        (ssum, sparams, sparas, _), sdef = structs[s]
        out += [".SS struct %s" % s, roff(ssum[:1].upper() + ssum[1:]) + ":",
                ".PP", ".in +4n", ".EX", roff(sdef), ".EE", ".in", ".PP"]
        for p in sparas:
            out += [text(p), ".PP"]
        for pname, ptext in sparams:
            out += [".TP", ".I " + pname, text(ptext)]
        out += [".PP",
                "The caller sets \\fIsize\\fP to sizeof(struct %s) (or uses "
                "P2PBUF_INIT()) and leaves the reserved fields zero; see "
                "\\fBlibp2pbuf\\fP(3) for how the library treats smaller "
                "and larger sizes." % s]
    out += [".SH RETURN VALUE"]
    if name not in VALUES:
        out += ["0 on success, or a negative errno value; on failure the "
                "output arguments and the caller's descriptors are as they "
                "were."]
        if ret:
            out += [".PP"]
    if ret:
        out += [text(ret[:1].upper() + ret[1:])]
    out += [".SH VERSIONS", version_line(lib, node)]
    words = " ".join(paras) + " " + (ret or "") + " " + \
        " ".join(t for _, t in params)
    see = [f for f in dict.fromkeys(re.findall(r"(p2pbuf_[a-z0-9_]+)\(\)", words))
           if f != name and f in all_funcs]
    out += [".SH SEE ALSO",
            ",\n".join(".BR %s (3)" % f for f in see + ["libp2pbuf"])]
    return "\n".join(out) + "\n"


def pages(header):
    funcs, structs = parse_header(header)
    hname = os.path.basename(header)
    nodes = versions(LIBS[hname]["map"])
    result = {}
    for name, func in sorted(funcs.items()):
        if name in ALIASES:
            result[name] = ".so man3/%s.3\n" % ALIASES[name]
        elif name not in nodes:
            raise SystemExit("%s: %s is in no version node of %s" %
                             (header, name, LIBS[hname]["map"]))
        else:
            result[name] = page(name, func, structs, funcs, hname,
                                nodes[name])
    return result


def main(argv):
    check = argv[1:2] == ["--check"]
    if check:
        argv = argv[1:]
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    header, outdir = argv[1], argv[2]
    bad = 0
    for name, text in pages(header).items():
        path = os.path.join(outdir, name + ".3")
        if check:
            try:
                same = open(path).read() == text
            except OSError:
                same = False
            if not same:
                print("%s: not what %s says (run mkman3.py)" % (path, header))
                bad = 1
        else:
            with open(path, "w") as f:
                f.write(text)
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
