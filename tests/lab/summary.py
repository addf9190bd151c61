#!/usr/bin/env python3
# Why this exists: lab.sh's per-node figures. From the files lab.sh leaves in $LAB (each
# session's start time, when each node turned stable, each node's `rackboot nodes timeline`
# JSON) it prints, per session and node, when each boot step happened after the power-on
# call, and the power-on -> stable time. Exits 1 if a boot or reboot left a step off a node's
# timeline (power-on, dhcp, bootscript, kernel, initrd, reported; tftp for --need-tftp nodes).
#
# Usage: summary.py LAB [--need-tftp XNAME,...] XNAME=VM [XNAME=VM ...]

import json
import sys
from datetime import datetime

SESSIONS = ["boot", "reboot", "shutdown"]
STEPS = ["dhcp", "tftp", "bootscript", "kernel", "initrd", "booted", "reported"]
OPTIONAL = {"tftp", "booted"}  # booted: BOS boot evidence (BOOT_EVIDENCE=1)


def epoch(ts):
    # RFC 3339 with nanoseconds and Z; Python 3.11 parses at most microseconds.
    head, _, frac = ts.rstrip("Z").partition(".")
    t = datetime.fromisoformat(head + "+00:00").timestamp()
    return t + (float("0." + frac) if frac else 0.0)


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def main():
    args = sys.argv[1:]
    lab = args.pop(0)
    need_tftp = set()
    if args and args[0] == "--need-tftp":
        need_tftp = set(filter(None, args[1].split(",")))
        args = args[2:]
    pairs = [a.split("=", 1) for a in args]
    missing = []
    starts = {}
    for op in SESSIONS:
        s = read(f"{lab}/start-lab-{op}.txt").strip()
        if s:
            starts[op] = float(s)
    events = {}
    for x, _ in pairs:
        events[x] = [
            (epoch(e["time"]), e)
            for e in json.loads(read(f"{lab}/timeline-{x}.json", "{}")).get("events", [])
        ]
    ops = [op for op in SESSIONS if op in starts]
    for i, op in enumerate(ops):
        lo = starts[op]
        hi = starts[ops[i + 1]] if i + 1 < len(ops) else float("inf")
        stable = {}
        for line in read(f"{lab}/stable-lab-{op}.txt").splitlines():
            x, t = line.split()
            stable[x] = float(t)
        print(f"{op} session: seconds after each node's power-on call "
              f"(power-on: after the session was created)")
        head = ["node", "vm", "power-on"] + STEPS + ["done"]
        rows = []
        for x, vm in pairs:
            evs = [(t, e) for t, e in events[x] if lo <= t < hi]
            on = next((t for t, e in evs if e["what"] == "power-on"), None)
            row = [x, vm, f"{on - lo:.1f}" if on else "-"]
            base = on if on else lo
            if op != "shutdown" and on is None:
                missing.append(f"{op}: {x} has no power-on event")
            for step in STEPS:
                # Timeline events are stamped when recorded: the power-on call after the
                # whole batch of Redfish calls, so a fast DHCP may come before it.
                t = next((t for t, e in evs if e["what"] == step
                          and (step != "tftp" or e["outcome"] == "complete")), None)
                row.append(f"{t - base:.1f}" if t else "-")
                needed = step not in OPTIONAL or (step == "tftp" and x in need_tftp)
                if op != "shutdown" and needed and t is None:
                    missing.append(f"{op}: {x} ({vm}) has no {step} event on its timeline")
            st = stable.get(x)
            row.append(f"{st - base:.1f}" if st else "-")
            rows.append(row)
        if op == "shutdown":
            print("  (no power-on: done = off and stable, seconds after the session was created)")
        widths = [max(len(r[c]) for r in rows + [head]) for c in range(len(head))]
        for r in [head] + rows:
            print("  " + "  ".join(v.rjust(w) if j >= 2 else v.ljust(w)
                                   for j, (v, w) in enumerate(zip(r, widths))))
        print()
    for m in missing:
        print(f"MISSING: {m}")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
