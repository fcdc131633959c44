#!/usr/bin/env python3
"""Compares what an SMTP sink received (bench/smtp_sink.py's log) with outbox rows.

    python3 bench/email_check.py SINK_LOG OUTBOX_IDS_FILE [KILLED_AT]

OUTBOX_IDS_FILE has one outbox id per line (the rows a fan-out queued). Prints one line of
key=value pairs: expected, received (messages with one of those ids, counting repeats),
distinct, missing, duplicates (extra deliveries of an id already received), first/last
arrival, rate_per_s (distinct messages / (last - first arrival)) and avg_bytes. With
KILLED_AT (unix time of a kill -9 of the sender), also dup_logged_after_kill: how many of the
duplicated ids the sink logged for the first time after that instant, i.e. from bytes already
in its socket when the sender died, so that the sender could never have seen them accepted.
Exit status 0 only when nothing is missing.
"""
import sys


def main():
    log, ids_file = sys.argv[1], sys.argv[2]
    killed_at = float(sys.argv[3]) if len(sys.argv) > 3 else None
    expected = {l.strip() for l in open(ids_file) if l.strip()}
    seen, first, times, sizes, received = {}, {}, [], [], 0
    for line in open(log):
        parts = line.split()
        if len(parts) < 3:
            continue
        t, size, mid = float(parts[0]), int(parts[1]), parts[2]
        oid = mid.strip("<>").split("@", 1)[0]
        if oid not in expected:
            continue
        received += 1
        seen[oid] = seen.get(oid, 0) + 1
        first.setdefault(oid, t)
        times.append(t)
        sizes.append(size)
    missing = len(expected - set(seen))
    dups = sum(n - 1 for n in seen.values())
    after = ""
    if killed_at is not None:
        late = sum(1 for oid, n in seen.items() if n > 1 and first[oid] >= killed_at)
        after = f" dup_logged_after_kill={late}"
    span = (max(times) - min(times)) if len(times) > 1 else 0.0
    rate = (len(seen) - 1) / span if span > 0 else 0.0
    print(
        f"expected={len(expected)} received={received} distinct={len(seen)} missing={missing} "
        f"duplicates={dups} first={min(times) if times else 0:.3f} last={max(times) if times else 0:.3f} "
        f"span_s={span:.3f} rate_per_s={rate:.1f} avg_bytes={int(sum(sizes) / len(sizes)) if sizes else 0}{after}"
    )
    sys.exit(0 if missing == 0 else 1)


if __name__ == "__main__":
    main()
