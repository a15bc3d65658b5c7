"""Issue 14, phase 1: what identifying the caller costs every request.

Every request now passes ``identify_caller``: nothing to do without an ``Authorization`` header or session
cookie, one indexed SQLite lookup (plus the account's grants) with one. This measures the per-request time,
in process (Flask's test client: no network, so the difference is the identification itself), of
anonymous, API-token and session requests for a cheap URL (``/healthz``) and a cached dataset document
(Turtle), in interleaved rounds; p50 over all samples, and the ratio to anonymous.

python -m bench.access [--requests 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import DFL, ROOT, append_results, markdown_table

BASE = "http://127.0.0.1:8803"
CATALOGUE = ROOT / "data" / "london-datastore-2010" / "london-datastore-2010-datasets.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per kind of caller per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from dfl_graph.accounts import open_directory
    from dfl_graph.config import Settings
    from server import create_app

    with tempfile.TemporaryDirectory(prefix="dfl-bench-access-") as tmp:
        data_dir = Path(tmp) / "catalogue"
        load = [*DFL, "--base", BASE, "load", "lds2010", str(CATALOGUE), "--source", "lds", "--store", str(data_dir)]
        subprocess.run(load, check=True, capture_output=True, cwd=ROOT)
        settings = Settings(data_dir=data_dir, base=BASE)
        app = create_app(settings)
        directory = open_directory(settings)
        account = directory.ensure_account("bench@tfl.gov.uk")
        directory.add_grant("bench", "member", domain="tfl.gov.uk", organisation="tfl")
        token = directory.issue_token(account, "bench", "read").text
        cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": directory.start_session(account, "x")})

        callers = {
            "anonymous": ({}, None),
            "API token": ({"Authorization": f"Bearer {token}"}, None),
            "session": ({}, cookie),
        }
        urls = {"/healthz": "/healthz", "dataset (Turtle, cached)": "/dataset/crime-rates-borough.ttl"}
        samples: dict[tuple[str, str], list[float]] = {(c, u): [] for c in callers for u in urls}
        clients = {}
        for name, (_headers, session_cookie) in callers.items():
            client = clients[name] = app.test_client()
            if session_cookie:
                client.set_cookie("dfl_session", session_cookie, domain="localhost")
        for _round in range(args.rounds):
            for url_name, url in urls.items():
                for name, (headers, _cookie) in callers.items():
                    client = clients[name]
                    for _ in range(args.requests):
                        started = time.perf_counter()
                        response = client.get(url, headers=headers)
                        samples[(name, url_name)].append(time.perf_counter() - started)
                        if response.status_code != 200:
                            raise SystemExit(f"{name} {url}: {response.status_code}")

    rows = []
    for url_name in urls:
        anonymous = statistics.median(samples[("anonymous", url_name)])
        for name in callers:
            p50 = statistics.median(samples[(name, url_name)])
            rows.append([url_name, name, f"{p50 * 1e6:.0f} µs", f"{p50 / anonymous:.2f}×"])
    append_results(
        "Access, phase 1: identifying the caller (in process)",
        f"python -m bench.access --requests {args.requests} --rounds {args.rounds}",
        markdown_table(["URL", "caller", "p50", "vs anonymous"], rows),
    )


if __name__ == "__main__":
    main()
