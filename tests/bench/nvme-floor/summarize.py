#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarize guest-floor's floor.out: per row and floor setting, the
median of p2p/ram and p2p/system over the rounds, and every value."""
import collections
import statistics
import sys

NAMES = {"0": "module", "1": "no fence", "2": "bio only"}


def main(path):
    rows = collections.OrderedDict()
    floor = None
    with open(path) as f:
        for line in f:
            if line.startswith("== "):
                floor = line.split()[-1]
                continue
            parts = line.split("|")
            if len(parts) < 4 or floor is None:
                continue
            key = " ".join(parts[0].split())
            ratios = parts[2].split()
            # p2p/ram ["ok"] cmp/p2p ["ok"] p2p/sys
            try:
                nums = [float(x) for x in ratios if x != "ok"]
                pair = (nums[0], nums[2])
            except (ValueError, IndexError):
                print("skipped: %s" % line.rstrip(), file=sys.stderr)
                continue
            rows.setdefault(key, {}).setdefault(floor, []).append(pair)
    if not rows:
        print("no rows in %s" % path, file=sys.stderr)
        return 1
    print("%-16s %-9s %2s %7s %7s  %s" % ("op size qd", "floor", "n",
                                          "p2p/ram", "p2p/sys",
                                          "p2p/ram of each round"))
    for key, by_floor in rows.items():
        for fl, vals in sorted(by_floor.items()):
            print("%-16s %-9s %2d %7.2f %7.2f  %s" % (
                key, NAMES.get(fl, fl), len(vals),
                statistics.median(v[0] for v in vals),
                statistics.median(v[1] for v in vals),
                " ".join("%.2f" % v[0] for v in vals)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
