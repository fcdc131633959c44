#!/usr/bin/env python3
"""A counting SMTP sink for the benchmarks (aiosmtpd).

Accepts every message and appends one line per message to LOG:

    <unix time> <size in bytes> <Message-ID>

so that a run can compute messages/s at the sink and check that every outbox row
arrived (distinct Message-IDs) and how many arrived more than once. The message
bodies are not stored.

    python3 bench/smtp_sink.py --port 18025 --log /tmp/sink.log [--max-seconds 1800]

Stops on SIGTERM/SIGINT, or by itself after --max-seconds (a safety bound).
"""
import argparse
import re
import signal
import threading
import time

from aiosmtpd.controller import Controller

MID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


class Handler:
    def __init__(self, log):
        self.log = log
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        head = data.split(b"\r\n\r\n", 1)[0]
        m = MID.search(head)
        mid = m.group(1).decode("ascii", "replace") if m else "-"
        with self.lock:
            self.log.write(f"{time.time():.6f} {len(data)} {mid}\n")
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18025)
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-seconds", type=float, default=1800)
    args = ap.parse_args()
    log = open(args.log, "a", buffering=1)
    controller = Controller(
        Handler(log),
        hostname=args.host,
        port=args.port,
        data_size_limit=10 * 1024 * 1024,
        decode_data=False,
    )
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"smtp sink listening on {args.host}:{args.port}, logging to {args.log}", flush=True)
    stop.wait(args.max_seconds)
    controller.stop()
    log.close()


if __name__ == "__main__":
    main()
