#!/usr/bin/env python3
"""Classifies the requests of constant-rate runs around database faults (bench/run.sh, step
`restart`).

    python3 bench/faults.py --events EVENTS --probe PROBE --requests CSV --end EPOCH --timeline OUT.md

EVENTS: lines "<epoch> <name> [value]" written by run.sh: "load.start" (the times in the
  timeline count from it; default: the first request), and per fault F one
  "<epoch> F.stop" (the moment the fault was caused: pg_ctl issued, backends terminated)
  and optionally "<epoch> F.ctl_done" (pg_ctl returned).
PROBE: lines "<epoch> <pg_isready exit status>" every ~50 ms during the run (0 = accepting).
CSV: bench/loadgen.py's record of every request (target, scheduled, start, end, status;
  status 0 = no HTTP answer), each target a run.

A fault is "down" from its stop until the first probe that accepts connections after a
refused one (for pg_terminate_backend, whose server never stops, down is the instant of the
call). For each fault and run it prints one line of key=value pairs:

  fault=F run=NAME down_s=… during_total=… during_fail=… during_status=503:12,500:1
  after_total=… after_fail=… after_status=… first_after_s=… last_after_s=… inflight_fail=…

during = requests that overlapped the down time (started before the database accepted
connections again and ended after the fault); after = requests started after it accepted
connections again and ended before the next fault (one still running then is in flight for
that fault); first/last_after_s = when the first and last
failed "after" request started, in seconds after the database was back; inflight_fail =
failed requests that were already running when the fault hit (counted in during_fail too).
A failure is any status other than 2xx, or no answer. The timeline file sums the failures while down and lists
those after up one by one.
"""
import argparse
import csv
from collections import Counter


def load_events(path):
    events = {}
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2:
            events[parts[1]] = float(parts[0])
    return events


def load_probe(path):
    out = []
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            out.append((float(parts[0]), int(parts[1])))
    return sorted(out)


def back_up_at(probe, stop, fallback):
    """First accepting probe after a refused one, after `stop`."""
    seen_down = False
    for t, rc in probe:
        if t < stop:
            continue
        if rc != 0:
            seen_down = True
        elif seen_down:
            return t
    return fallback


def fmt_status(counter):
    return ",".join(f"{k}:{v}" for k, v in sorted(counter.items())) or "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--end", type=float, required=True)
    ap.add_argument("--requests", required=True)
    ap.add_argument("--timeline", required=True)
    args = ap.parse_args()

    events = load_events(args.events)
    probe = load_probe(args.probe)
    names = sorted({k.split(".")[0] for k in events if k.endswith(".stop")}, key=lambda f: events[f + ".stop"])
    faults = []
    for f in names:
        stop = events[f + ".stop"]
        if f == "terminate":
            up = stop
        else:
            up = back_up_at(probe, stop, events.get(f + ".ctl_done", stop))
        faults.append((f, stop, up))
    runs = {}
    with open(args.requests, newline="") as f:
        for r in csv.DictReader(f):
            runs.setdefault(r["target"], []).append((float(r["start"]), float(r["end"]), int(r["status"])))
    t0 = events.get("load.start", min(min(x[0] for x in reqs) for reqs in runs.values()))

    timeline = ["| run | fault (s from load start: stop → up) | failed requests | started at (s) | statuses |",
                "| --- | --- | --- | --- | --- |"]
    for name, reqs in runs.items():
        reqs.sort()
        for i, (f, stop, up) in enumerate(faults):
            nxt = faults[i + 1][1] if i + 1 < len(faults) else args.end
            during = [r for r in reqs if r[0] < up and r[1] >= stop] if up > stop else []
            inflight = [r for r in reqs if r[0] < stop <= r[1]]
            # a request still running when the next fault hit belongs to that fault (in flight)
            after = [r for r in reqs if up <= r[0] and r[1] < nxt]
            bad = lambda rs: [r for r in rs if not 200 <= r[2] < 300]
            d_bad, i_bad, a_bad = bad(during), bad(inflight), bad(after)
            d_bad = sorted(set(d_bad) | set(i_bad))
            print(
                f"fault={f} run={name} stop={stop:.3f} up={up:.3f} down_s={up - stop:.3f} "
                f"during_total={len(set(during) | set(inflight))} during_fail={len(d_bad)} "
                f"during_status={fmt_status(Counter(r[2] for r in d_bad))} inflight_fail={len(i_bad)} "
                f"after_total={len(after)} after_fail={len(a_bad)} after_status={fmt_status(Counter(r[2] for r in a_bad))} "
                f"first_after_s={(a_bad[0][0] - up) if a_bad else 0:.3f} last_after_s={(a_bad[-1][0] - up) if a_bad else 0:.3f}"
            )
            window = f"{f} ({stop - t0:.2f} → {up - t0:.2f})"
            if d_bad:
                timeline.append(f"| {name} | {window} | {len(d_bad)} while down (incl. {len(i_bad)} in flight at the fault) "
                                f"| {d_bad[0][0] - t0:.3f} … {d_bad[-1][0] - t0:.3f} | {fmt_status(Counter(r[2] for r in d_bad))} |")
            for s, e, st in a_bad[:200]:
                timeline.append(f"| {name} | {window} | after up: +{s - up:.3f} s, took {e - s:.3f} s | {s - t0:.3f} | {st} |")
            if len(a_bad) > 200:
                timeline.append(f"| {name} | {window} | … {len(a_bad) - 200} more after up | | |")
    with open(args.timeline, "w") as out:
        out.write("\n".join(timeline) + "\n")


if __name__ == "__main__":
    main()
