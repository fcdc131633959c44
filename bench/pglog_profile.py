#!/usr/bin/env python3
"""Summarises PostgreSQL log lines written with log_min_duration_statement = 0 (the lines
of one database, captured by bench/run.sh's profile step) for N requests:

    python3 bench/pglog_profile.py LOGFILE N

Prints, per request: statements executed, parse steps (a parse = an uncached statement,
one extra round trip with libpq's PQprepare + PQexecPrepared), round trips (approx.:
simple-protocol statements + executes + parses), server time, then the statements by
total server time (parse + bind + execute), with their share.
"""
import re
import sys
from collections import defaultdict

LINE = re.compile(r"duration: ([0-9.]+) ms  (parse|bind|execute|statement)( [^:]*)?: (.*)$")


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    per = defaultdict(lambda: {"parse": 0.0, "bind": 0.0, "execute": 0.0, "statement": 0.0, "count": 0, "parses": 0})
    totals = defaultdict(float)
    counts = defaultdict(int)
    for line in open(path, encoding="utf-8", errors="replace"):
        m = LINE.search(line)
        if not m:
            continue
        ms, phase, sql = float(m.group(1)), m.group(2), m.group(4)
        key = re.sub(r"\s+", " ", sql)[:110]
        per[key][phase] += ms
        totals[phase] += ms
        counts[phase] += 1
        if phase in ("execute", "statement"):
            per[key]["count"] += 1
        if phase == "parse":
            per[key]["parses"] += 1
    executed = counts["execute"] + counts["statement"]
    server = sum(totals.values())
    print(f"per request: {executed / n:.1f} statements, {counts['parse'] / n:.1f} parses, "
          f"~{(executed + counts['parse']) / n:.1f} round trips, {server / n:.2f} ms server time "
          f"(parse {totals['parse'] / n:.2f}, bind {totals['bind'] / n:.2f}, "
          f"execute {totals['execute'] / n:.2f}, simple {totals['statement'] / n:.2f})")
    rows = sorted(per.items(), key=lambda kv: -(kv[1]["parse"] + kv[1]["bind"] + kv[1]["execute"] + kv[1]["statement"]))
    print(f"{'ms/req':>7} {'share':>6} {'n/req':>5} {'parse/req':>9}  statement")
    for key, v in rows[:25]:
        t = v["parse"] + v["bind"] + v["execute"] + v["statement"]
        print(f"{t / n:7.3f} {100 * t / server if server else 0:5.1f}% {v['count'] / n:5.2f} {v['parses'] / n:9.2f}  {key}")


if __name__ == "__main__":
    main()
