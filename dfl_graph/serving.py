"""Running the web application: gunicorn with several workers, or Flask's development server."""

from __future__ import annotations

import atexit
import os
import sys

from gunicorn.app.base import BaseApplication

from dfl_graph.config import Settings


class GunicornServer(BaseApplication):
    """gunicorn driven from ``dfl serve``: each worker builds the app after the fork, so each opens
    the store itself (the master never holds a store handle)."""

    def __init__(self, settings: Settings, options: dict) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from server import create_app

        return create_app(self.settings)


def exit_worker(server, worker) -> None:
    """gunicorn ``worker_exit`` hook: run the exit handlers (they stop this worker's SPARQL query workers)
    and leave without tearing the interpreter down: RocksDB, under pyoxigraph's read-only stores, crashed
    the exiting process in its static destructors (gunicorn logged SIGSEGV on every shutdown)."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run(settings: Settings, host: str, port: int, workers: int, dev: bool = False) -> None:
    if dev:
        from server import create_app

        create_app(settings).run(host=host, port=port, threaded=True)
        return
    GunicornServer(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": 8,  # a long SPARQL query holds a thread: keep some for everyone else
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": "-",
            "limit_request_line": 8190,
            "worker_exit": exit_worker,
        },
    ).run()
