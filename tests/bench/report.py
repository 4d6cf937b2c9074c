#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host side of `make bench`: results.json, the tables, the plots.

  report.py merge RESULTS --topology T --kernel K --commit C [--kind KIND]
                  [--exporter exporter.json] [--nvme nvme.json]
                  [--rdma rdma.json]
      add (or replace) one topology's run in RESULTS: every raw sample of
      the guest's JSON files, with the kernel, the topology and the commit
  report.py table RESULTS [--topology T]
      one table per topology: metric, p2pbuf's figure, the baseline's, the
      ratio (> 1: p2pbuf is better), the goal met or missed; a row whose
      samples spread too widely (max/min > 1.5 on either side) says so
      instead of giving a ratio
  report.py plot RESULTS OUTDIR
      a gnuplot SVG per topology and metric: cost against size, p2pbuf and
      baseline on one chart (median, with min..max bars)
  report.py compare A B
      two results.json side by side (before/after a change): each row's
      p2pbuf figure and ratio in A and in B
  report.py check RESULTS
      exit 1 unless every metric has figures
  report.py smoke EXPORTER_JSON NVME_JSON RDMA_JSON
      the guest's three files as one run: its table, then check (make
      check's bench-smoke: one python3 start, which costs under TCG)

Documentation/benchmarks.rst explains each metric and its goal.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

SPREAD_LIMIT = 1.5
EXPORTER_METRICS = ("map-nvme", "map-edu", "evict", "restore", "d2d",
                    "overcommit")
RDMA_METRICS = ("rdma-read", "rdma-write", "rdma-read-cpu", "rdma-write-cpu",
                "remap")


def med(v):
    return statistics.median(v) if v else float("nan")


def paired(a, b):
    """The median of a[i] / b[i]: runs taken in one turn of the modes
    (nvme_bench), so that drift between turns cancels."""
    if not a or len(a) != len(b) or min(b) <= 0:
        return None
    return statistics.median(x / y for x, y in zip(a, b))


def spread(v):
    if not v or min(v) <= 0:
        return float("inf") if v else 1.0
    return max(v) / min(v)


def size_text(x):
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if x >= div and x % div == 0:
            return "%d%s" % (x // div, unit)
    return str(x)


class Row:
    """One line of a table: lower_better says which way the figures go."""

    def __init__(self, name, p2p, base, unit, lower_better, goal=None,
                 goal_text="-", samples=(), ratio=None):
        self.name, self.p2p, self.base, self.unit = name, p2p, base, unit
        self.lower_better = lower_better
        self.goal, self.goal_text = goal, goal_text
        self.samples = samples
        self._ratio = ratio

    def wide(self):
        return any(spread(s) > SPREAD_LIMIT for s in self.samples)

    def ratio(self):
        if self._ratio is not None:
            return self._ratio
        if not self.p2p or not self.base:
            return float("nan")
        return self.base / self.p2p if self.lower_better else \
            self.p2p / self.base

    def verdict(self):
        if self.goal is None:
            return ""
        if self.wide():
            return "?"
        return "met" if self.goal(self) else "MISSED"


def exporter_rows(exp):
    rows = []
    for m in exp.get("metrics", []):
        pts = [p for p in m["points"] if p["p2pbuf"] and p["baseline"]]
        if not pts:
            continue
        name, unit = m["name"], m["unit"]
        lower = not m.get("higher_is_better", False)
        if name.startswith("map-"):
            s, l = pts[0], pts[-1]
            rows.append(Row(
                "%s time %s/%s" % (name, size_text(l["x"]),
                                   size_text(s["x"])),
                med(l["p2pbuf"]) / med(s["p2pbuf"]),
                med(l["baseline"]) / med(s["baseline"]), "x", True,
                goal=lambda r: r.p2p <= 4.0, goal_text="p2pbuf <= 4",
                samples=(s["p2pbuf"], l["p2pbuf"], s["baseline"],
                         l["baseline"])))
            rows.append(Row("%s us at %s" % (name, size_text(l["x"])),
                            med(l["p2pbuf"]), med(l["baseline"]), unit,
                            True, samples=(l["p2pbuf"], l["baseline"])))
            # One entry per contiguous range, split only at the
            # importer's segment limit (edu has no dma_parms: 64 KiB).
            # System memory is not one contiguous range: no goal there.
            p2p = l.get("p2pbuf_peer2peer", True)
            seg = l.get("max_seg", 0)
            want = -(-l["x"] // seg) if seg else 1
            if want == 1:
                seg = 0
            rows.append(Row("%s sg entries at %s%s" %
                            (name, size_text(l["x"]),
                             "" if p2p else " (system memory)"),
                            l.get("p2pbuf_nents", 0),
                            l.get("baseline_nents", 0), "", True,
                            goal=(lambda r, w=want: r.p2p <= w) if p2p
                            else None,
                            goal_text=("p2pbuf <= %d (%s segments)" %
                                       (want, size_text(seg)) if seg else
                                       "p2pbuf = 1") if p2p else "-"))
        elif name in ("evict", "restore"):
            l = pts[-1]
            rows.append(Row("%s MB/s at %s" % (name, size_text(l["x"])),
                            med(l["p2pbuf"]), med(l["baseline"]), unit,
                            False, goal=lambda r: r.ratio() >= 0.8,
                            goal_text="ratio >= 0.8",
                            samples=(l["p2pbuf"], l["baseline"])))
        elif name == "d2d":
            l = pts[-1]
            rows.append(Row("d2d CPU ms/MiB at %s" % size_text(l["x"]),
                            med(l["p2pbuf"]), med(l["baseline"]), unit,
                            True, goal=lambda r: r.ratio() > 1.0,
                            goal_text="ratio > 1",
                            samples=(l["p2pbuf"], l["baseline"])))
        elif name == "overcommit":
            for p in pts:
                rows.append(Row("overcommit MB/s at %dx VRAM" % p["x"],
                                med(p["p2pbuf"]), med(p["baseline"]), unit,
                                False, samples=(p["p2pbuf"],
                                                p["baseline"])))
            if len(pts) > 1:
                a, b = pts[0], pts[-1]
                rows.append(Row(
                    "overcommit %dx/%dx throughput" % (b["x"], a["x"]),
                    med(b["p2pbuf"]) / med(a["p2pbuf"]),
                    med(b["baseline"]) / med(a["baseline"]), "x", False,
                    samples=(a["p2pbuf"], b["p2pbuf"], a["baseline"],
                             b["baseline"])))
        else:
            l = pts[-1]
            rows.append(Row("%s at %s" % (name, l["x"]), med(l["p2pbuf"]),
                            med(l["baseline"]), unit, lower,
                            samples=(l["p2pbuf"], l["baseline"])))
    return rows


def nvme_rows(nvme):
    """The NVMe importer's goals, at its largest size, queue depth 1."""
    rows = []
    res = nvme.get("results", [])
    for op in ("read", "write"):
        cand = [r for r in res if r["op"] == op and r["qd"] == 1]
        if not cand:
            cand = [r for r in res if r["op"] == op]
        if not cand:
            continue
        r = max(cand, key=lambda r: r["size"])
        tag = "nvme %s %s qd%d" % (op, size_text(r["size"]), r["qd"])
        p2p = [v * 1e3 for v in r["p2p"]["cpu_s_per_mib"]]
        ram = [v * 1e3 for v in r["ram"]["cpu_s_per_mib"]]
        compat = [v * 1e3 for v in r["compat"]["cpu_s_per_mib"]]
        rows.append(Row(tag + " CPU ms/MiB vs RAM", med(p2p), med(ram),
                        "ms/MiB", True, goal=lambda x: x.ratio() >= 1.0,
                        goal_text="ratio >= 1", samples=(p2p, ram),
                        ratio=paired(ram, p2p)))
        rows.append(Row(tag + " CPU ms/MiB vs compat", med(p2p),
                        med(compat), "ms/MiB", True,
                        goal=lambda x: x.ratio() >= 1.5,
                        goal_text="ratio >= 1.5", samples=(p2p, compat),
                        ratio=paired(compat, p2p)))
    return rows


def rdma_rows(rdma):
    """The RDMA importer into VRAM against system memory: the largest
    size's throughput and CPU per MiB, each way, and the re-map."""
    rows = []
    for m in rdma.get("metrics", []):
        pts = [p for p in m["points"] if p["p2pbuf"] and p["baseline"]]
        if not pts:
            continue
        l = pts[-1]
        name = m["name"]
        if name == "remap":
            rows.append(Row("rdma 64K request after a move, us",
                            med(l["p2pbuf"]), med(l["baseline"]), "us",
                            True, samples=(l["p2pbuf"], l["baseline"])))
            rows.append(Row("rdma re-map cost, us", med(l["p2pbuf"]) -
                            med(l["baseline"]), float("nan"), "us", True))
            continue
        lower = not m.get("higher_is_better", False)
        what = "%s %s at %s" % (name.replace("-cpu", ""),
                                m["unit"], size_text(l["x"]))
        rows.append(Row(what, med(l["p2pbuf"]), med(l["baseline"]),
                        m["unit"], lower, goal=lambda r: r.ratio() >= 0.8,
                        goal_text="ratio >= 0.8",
                        samples=(l["p2pbuf"], l["baseline"])))
    return rows


def run_rows(run):
    rows = []
    if run.get("exporter"):
        rows += exporter_rows(run["exporter"])
    if run.get("nvme"):
        rows += nvme_rows(run["nvme"])
    if run.get("rdma"):
        rows += rdma_rows(run["rdma"])
    return rows


def fmt(v):
    if isinstance(v, int):
        return str(v)
    if v != v:
        return "-"
    return "%.3g" % v if abs(v) < 1000 else "%.0f" % v


def print_table(topo, run, out=sys.stdout):
    rows = run_rows(run)
    out.write("\n%s topology, %s kernel %s, commit %s\n" %
              (topo, run.get("kind", "?"), run.get("kernel", "?"),
               run.get("commit", "?")))
    out.write("ratio: how many times better p2pbuf's figure is than the "
              "baseline's (> 1: better)\n")
    w = max([len(r.name) for r in rows] + [6])
    out.write("%-*s %11s %11s %17s  %s\n" % (w, "metric", "p2pbuf",
                                             "baseline", "ratio", "goal"))
    for r in rows:
        ratio = "spread too wide" if r.wide() else fmt(r.ratio())
        goal = r.goal_text + (" " + r.verdict() if r.verdict() else "")
        out.write("%-*s %11s %11s %17s  %s\n" % (w, r.name, fmt(r.p2p),
                                                 fmt(r.base), ratio, goal))


def load(path):
    with open(path) as f:
        return json.load(f)


def cmd_merge(a):
    res = {"format": 1, "runs": {}}
    if os.path.exists(a.results):
        res = load(a.results)
    run = {"topology": a.topology, "kernel": a.kernel, "kind": a.kind,
           "commit": a.commit}
    for key, path in (("exporter", a.exporter), ("nvme", a.nvme),
                      ("rdma", a.rdma)):
        if path and os.path.exists(path):
            run[key] = load(path)
    res["runs"][a.topology] = run
    tmp = a.results + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=1)
    os.replace(tmp, a.results)
    return 0


def cmd_table(a):
    res = load(a.results)
    for topo, run in res["runs"].items():
        if not a.topology or topo == a.topology:
            print_table(topo, run)
    return 0


def cmd_check(a):
    return check_runs(load(a.results))


def cmd_smoke(a):
    run = {"topology": os.environ.get("P2PBUF_TOPO", "?"),
           "kernel": os.uname().release,
           "kind": os.environ.get("P2PBUF_KERNEL", "?"), "commit": "smoke",
           "exporter": load(a.exporter), "nvme": load(a.nvme),
           "rdma": load(a.rdma)}
    res = {"format": 1, "runs": {run["topology"]: run}}
    print_table(run["topology"], run)
    return check_runs(res)


def missing_metrics(run, key, names):
    """The metrics of @names without figures in run[key]."""
    have = {m["name"]: m for m in run.get(key, {}).get("metrics", [])}
    return [n for n in names if not have.get(n) or not any(
        p["p2pbuf"] and p["baseline"] for p in have[n]["points"])]


def check_runs(res):
    bad = 0
    for topo, run in res["runs"].items():
        for key, names in (("exporter", EXPORTER_METRICS),
                           ("rdma", RDMA_METRICS)):
            for name in missing_metrics(run, key, names):
                print("%s: no figures for %s" % (topo, name))
                bad = 1
        if not run.get("nvme", {}).get("results"):
            print("%s: no NVMe figures" % topo)
            bad = 1
        if not bad and not run_rows(run):
            bad = 1
    return bad


def plot_metric(topo, m, outdir):
    pts = [p for p in m["points"] if p["p2pbuf"] and p["baseline"]]
    if not pts:
        return None
    base = "%s-%s" % (topo, m["name"])
    dat = os.path.join(outdir, base + ".dat")
    with open(dat, "w") as f:
        f.write("# x p2pbuf-median min max baseline-median min max\n")
        for p in pts:
            a, b = p["p2pbuf"], p["baseline"]
            f.write("%d %g %g %g %g %g %g\n" % (
                p["x"], med(a), min(a), max(a), med(b), min(b), max(b)))
    svg = os.path.join(outdir, base + ".svg")
    logx = "set logscale x 2\n" if m["x_unit"] == "bytes" else ""
    script = """set terminal svg size 720,440 dynamic
set output '%s'
set title "%s: %s (%s topology)" noenhanced
set xlabel "%s" noenhanced
set ylabel "%s" noenhanced
%sset key top left noenhanced
set grid
set offsets graph 0.05, graph 0.05, graph 0.05, 0
set yrange [0:*]
plot '%s' using 1:2:3:4 with yerrorlines title "%s", \\
     '' using 1:5:6:7 with yerrorlines title "%s"
""" % (svg, m["name"], m["title"], topo, m["x_unit"], m["unit"], logx, dat,
       m["p2pbuf_label"], m["baseline_label"])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return svg


def cmd_plot(a):
    if not shutil.which("gnuplot"):
        print("bench: no gnuplot (tests/install-deps.sh installs "
              "gnuplot-nox): no plots", file=sys.stderr)
        return 0
    res = load(a.results)
    os.makedirs(a.outdir, exist_ok=True)
    made = []
    for topo, run in res["runs"].items():
        for m in (run.get("exporter", {}).get("metrics", []) +
                  run.get("rdma", {}).get("metrics", [])):
            svg = plot_metric(topo, m, a.outdir)
            if svg:
                made.append(svg)
    print("bench: %d plots in %s" % (len(made), a.outdir), file=sys.stderr)
    return 0


def cmd_compare(a):
    ra, rb = load(a.a), load(a.b)
    for topo in sorted(set(ra["runs"]) | set(rb["runs"])):
        run_a, run_b = ra["runs"].get(topo), rb["runs"].get(topo)
        if not run_a or not run_b:
            print("\n%s: only in %s" % (topo, a.a if run_a else a.b))
            continue
        print("\n%s topology: A %s (%s), B %s (%s)" % (
            topo, run_a.get("commit"), run_a.get("kernel"),
            run_b.get("commit"), run_b.get("kernel")))
        rows_b = {r.name: r for r in run_rows(run_b)}
        rows = run_rows(run_a)
        w = max([len(r.name) for r in rows] + [6])
        print("%-*s %11s %11s %8s %9s %9s" % (w, "metric", "p2pbuf A",
                                              "p2pbuf B", "B/A", "ratio A",
                                              "ratio B"))
        for r in rows:
            o = rows_b.get(r.name)
            if not o:
                print("%-*s %11s %11s" % (w, r.name, fmt(r.p2p), "-"))
                continue
            change = o.p2p / r.p2p if r.p2p else float("nan")
            ra_t = "wide" if r.wide() else fmt(r.ratio())
            rb_t = "wide" if o.wide() else fmt(o.ratio())
            print("%-*s %11s %11s %8s %9s %9s" % (
                w, r.name, fmt(r.p2p), fmt(o.p2p), fmt(change), ra_t,
                rb_t))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge")
    m.add_argument("results")
    m.add_argument("--topology", required=True)
    m.add_argument("--kernel", default="?")
    m.add_argument("--kind", default="?")
    m.add_argument("--commit", default="?")
    m.add_argument("--exporter")
    m.add_argument("--nvme")
    m.add_argument("--rdma")
    t = sub.add_parser("table")
    t.add_argument("results")
    t.add_argument("--topology")
    c = sub.add_parser("check")
    c.add_argument("results")
    g = sub.add_parser("plot")
    g.add_argument("results")
    g.add_argument("outdir")
    k = sub.add_parser("smoke")
    k.add_argument("exporter")
    k.add_argument("nvme")
    k.add_argument("rdma")
    d = sub.add_parser("compare")
    d.add_argument("a")
    d.add_argument("b")
    a = p.parse_args()
    return {"merge": cmd_merge, "table": cmd_table, "check": cmd_check,
            "plot": cmd_plot, "compare": cmd_compare, "smoke": cmd_smoke}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
