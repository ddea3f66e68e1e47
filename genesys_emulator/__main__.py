"""CLI: run the emulator as a process (for Meltano / subprocess runs) or print a dataset summary.

    python -m genesys_emulator --port 8765 --attempts 50000
prints `emulator listening on http://HOST:PORT` first (scripts/demo.py and bench/run.py parse that
line), then `client_id=... client_secret=...`. Faults are switched over HTTP in this mode:
POST /_emulator/faults (see faults.py).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .dataset import Dataset, EmulatorConfig
from .server import Emulator


def build_parser() -> argparse.ArgumentParser:
    d = EmulatorConfig()
    p = argparse.ArgumentParser(
        prog="python -m genesys_emulator",
        description="Local Genesys Cloud API emulator with seeded outbound data. Prints its URL, then the "
                    "OAuth client id and secret; stops on SIGTERM or Ctrl-C.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--host", default=d.host, help="interface to listen on")
    p.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free port")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed of the dataset (same seed, same data)")
    p.add_argument("--campaigns", type=int, default=d.campaigns, help="number of campaigns (the last is never dialled)")
    p.add_argument("--attempts", type=int, default=d.attempts, help="number of outbound dial attempts (conversations)")
    p.add_argument("--days", type=int, default=d.days, help="days of data before the anchor")
    p.add_argument("--anchor", default=d.anchor, help="end (exclusive) of the data and the data's 'now', ISO-8601 UTC")
    p.add_argument("--client-id", default=d.client_id, help="OAuth client id the token endpoint accepts")
    p.add_argument("--client-secret", default=d.client_secret, help="OAuth client secret the token endpoint accepts")
    p.add_argument("--rate-limit-per-minute", type=int, default=None,
                   help="enforce a fixed-window limit of this many requests per token per minute (429 beyond)")
    p.add_argument("--token-ttl", type=float, default=d.token_ttl, help="token lifetime in seconds")
    p.add_argument("--availability-lag-hours", type=float, default=d.availability_lag_hours,
                   help="how far the jobs' dataAvailabilityDate lags the anchor")
    p.add_argument("--latency-ms", type=float, default=d.latency_ms,
                   help="server time per /api/v2 request in milliseconds (the token endpoint stays fast)")
    p.add_argument("--latency-jitter", type=float, default=d.latency_jitter,
                   help="relative spread of --latency-ms: 0.2 means +-20 %%")
    p.add_argument("--print-summary", action="store_true", help="print the dataset counts as JSON and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = EmulatorConfig(seed=args.seed, campaigns=args.campaigns, attempts=args.attempts, days=args.days,
                            anchor=args.anchor, host=args.host, port=args.port, client_id=args.client_id,
                            client_secret=args.client_secret, token_ttl=args.token_ttl,
                            availability_lag_hours=args.availability_lag_hours, latency_ms=args.latency_ms,
                            latency_jitter=args.latency_jitter)
    if args.print_summary:
        print(json.dumps(Dataset.generate(config).summary(), indent=2), flush=True)
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    emulator = Emulator(config).start()
    if args.rate_limit_per_minute:
        emulator.faults.enforce_rate_limit(args.rate_limit_per_minute)
    print(f"emulator listening on {emulator.base_url}", flush=True)
    print(f"client_id={emulator.client_id} client_secret={emulator.client_secret}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
