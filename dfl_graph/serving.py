"""Running the web application: gunicorn with several workers, or Flask's development server."""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
from pathlib import Path

from gunicorn.app.base import BaseApplication

from dfl_graph.config import Settings
from dfl_graph.worker_memory import Trimmer, limit_arenas


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


def init_worker(server, worker) -> None:
    """gunicorn ``post_fork`` hook: before the worker starts its threads, bound its allocator's arenas
    (``dfl_graph/worker_memory.py``)."""
    limit_arenas()


def exit_worker(server, worker) -> None:
    """gunicorn ``worker_exit`` hook: run the exit handlers (they stop this worker's SPARQL query workers)
    and leave without tearing the interpreter down: RocksDB, under pyoxigraph's read-only stores, crashed
    the exiting process in its static destructors (gunicorn logged SIGSEGV on every shutdown)."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def control_socket(host: str, port: int) -> Path:
    """The gunicorn control socket of the server bound to ``host:port``: one per instance. gunicorn's default is
    one path per user (``$XDG_RUNTIME_DIR/gunicorn.ctl``), so a second ``dfl serve`` on the host took over the
    first's socket, and ``gunicornc`` then talked to the wrong server."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    directory = Path(runtime) if runtime and os.path.isdir(runtime) else Path(tempfile.gettempdir())
    name = f"dfl-gunicorn-{host.strip('[]').replace(':', '_')}-{port}.ctl"
    return directory / name


def run(settings: Settings, host: str, port: int, workers: int, dev: bool = False) -> None:
    if dev:
        from server import create_app

        create_app(settings).run(host=host, port=port, threaded=True)
        return
    GunicornServer(settings, gunicorn_options(host, port, workers)).run()


def gunicorn_options(host: str, port: int, workers: int) -> dict:
    """The server's gunicorn settings: threaded workers with bounded heaps."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 8,  # a long SPARQL query holds a thread: keep some for everyone else
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "limit_request_line": 8190,
        "post_fork": init_worker,
        "post_request": Trimmer(),  # each worker returns its heap's free pages every 200 requests
        "worker_exit": exit_worker,
        "control_socket": str(control_socket(host, port)),
    }
