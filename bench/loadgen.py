#!/usr/bin/env python3
"""A constant-rate HTTP/1.1 load generator that records every request with wall-clock times,
for the fault step of bench/run.sh (requests must be placed exactly against the moments the
database went down and came back, which oha's relative clock cannot do).

    python3 bench/loadgen.py --duration 70 --out requests.csv [--start EPOCH] \
        --target NAME METHOD URL RATE CONNS [BODIES_FILE] [--target ...] [--header 'K: V' ...]

From --start (default: 0.2 s after launch), each target sends RATE requests per second on a
schedule that does not wait for answers
(open model), over at most CONNS keep-alive connections; a request that finds all of them
busy waits for one (its start is then later than its scheduled time); a kept-alive connection
that the server had closed is replaced and the request sent again on the new one, as HTTP
clients do (nothing had been read from it). BODIES_FILE (optional):
one body per line, used in turn. Every request gets --timeout seconds (default 20).

Writes one CSV line per request: target, scheduled, start, end (epoch seconds), status (0 =
no HTTP answer), error. Prints per target: sent, answered by status, no answer.
"""
import argparse
import asyncio
import csv
import itertools
import sys
import time
from collections import Counter
from urllib.parse import urlsplit


class Conn:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    def close(self):
        self.writer.close()


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    keep = headers.get("connection", "").lower() != "close"
    return status, keep


class Target:
    def __init__(self, name, method, url, rate, conns, bodies, headers, timeout):
        u = urlsplit(url)
        self.name, self.method, self.rate, self.timeout = name, method, float(rate), timeout
        self.host, self.port = u.hostname, u.port or 80
        self.path = u.path + (f"?{u.query}" if u.query else "")
        self.bodies = itertools.cycle(bodies) if bodies else None
        self.headers = headers
        self.slots = asyncio.Semaphore(int(conns))
        self.idle = []

    def request_bytes(self):
        body = next(self.bodies).encode() if self.bodies else b""
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"] + self.headers
        if body or self.method in ("POST", "PUT", "PATCH"):
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    async def exchange(self, conn):
        conn.writer.write(self.request_bytes())
        await conn.writer.drain()
        return await asyncio.wait_for(read_response(conn.reader), self.timeout)

    async def fresh(self):
        r, w = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        return Conn(r, w)

    async def one(self, scheduled, rows):
        async with self.slots:
            start = time.time()
            conn = self.idle.pop() if self.idle else None
            status, error = 0, ""
            try:
                if conn is not None:
                    try:
                        status, keep = await self.exchange(conn)
                    except (ConnectionError, asyncio.IncompleteReadError) as e:
                        # a kept-alive connection the server had closed (nothing was read):
                        # like any HTTP client, send again on a new one
                        if isinstance(e, asyncio.IncompleteReadError) and e.partial:
                            raise
                        conn.close()
                        conn = None
                if conn is None:
                    conn = await self.fresh()
                    status, keep = await self.exchange(conn)
                if keep:
                    self.idle.append(conn)
                else:
                    conn.close()
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
                error = type(e).__name__
                status = 0
                if conn is not None:
                    conn.close()
            rows.append((self.name, f"{scheduled:.6f}", f"{start:.6f}", f"{time.time():.6f}", status, error))

    async def run(self, t0, duration, rows):
        tasks = []
        n = int(duration * self.rate)
        for i in range(n):
            scheduled = t0 + i / self.rate
            delay = scheduled - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.one(scheduled, rows)))
        await asyncio.gather(*tasks)
        for c in self.idle:
            c.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--start", type=float)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--target", nargs="+", action="append", required=True)
    args = ap.parse_args()
    targets = []
    for spec in args.target:
        if len(spec) not in (5, 6):
            sys.exit(f"--target NAME METHOD URL RATE CONNS [BODIES_FILE], not {spec}")
        bodies = [line.strip() for line in open(spec[5]) if line.strip()] if len(spec) == 6 else None
        targets.append(Target(*spec[:5], bodies, args.header, args.timeout))
    rows = []
    t0 = args.start if args.start else time.time() + 0.2
    await asyncio.gather(*(t.run(t0, args.duration, rows) for t in targets))
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target", "scheduled", "start", "end", "status", "error"])
        w.writerows(sorted(rows, key=lambda r: float(r[2])))
    for t in targets:
        mine = [r for r in rows if r[0] == t.name]
        statuses = Counter(r[4] for r in mine if r[4])
        errors = Counter(r[5] for r in mine if not r[4])
        print(f"{t.name}: sent={len(mine)} " + " ".join(f"{k}={v}" for k, v in sorted(statuses.items()))
              + (" no_answer=" + ",".join(f"{k}:{v}" for k, v in errors.items()) if errors else ""))


if __name__ == "__main__":
    asyncio.run(main())
