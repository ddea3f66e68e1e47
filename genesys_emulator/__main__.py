"""CLI: run the emulator as a process (for Meltano / subprocess runs) or print a dataset summary.

    python -m genesys_emulator --port 0 --seed 42 --print-summary
Faults are switched over HTTP in this mode: POST /_emulator/faults (see faults.py).
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
    p = argparse.ArgumentParser(prog="genesys-emulator", description="Genesys Cloud API emulator")
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--campaigns", type=int, default=d.campaigns)
    p.add_argument("--attempts", type=int, default=d.attempts)
    p.add_argument("--days", type=int, default=d.days)
    p.add_argument("--anchor", default=d.anchor, help="end (exclusive) of the data, ISO-8601 UTC")
    p.add_argument("--client-id", default=d.client_id)
    p.add_argument("--client-secret", default=d.client_secret)
    p.add_argument("--rate-limit-per-minute", type=int, default=None, help="enforce a per-token limit")
    p.add_argument("--token-ttl", type=float, default=d.token_ttl, help="token lifetime in seconds")
    p.add_argument("--availability-lag-hours", type=float, default=d.availability_lag_hours)
    p.add_argument("--print-summary", action="store_true", help="print dataset counts as JSON and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = EmulatorConfig(seed=args.seed, campaigns=args.campaigns, attempts=args.attempts, days=args.days,
                            anchor=args.anchor, host=args.host, port=args.port, client_id=args.client_id,
                            client_secret=args.client_secret, token_ttl=args.token_ttl,
                            availability_lag_hours=args.availability_lag_hours)
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
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
