"""The Data for London web application: ``create_app(settings)`` (Flask application factory)."""

from __future__ import annotations

from flask import Flask, jsonify

from dfl_graph.config import Settings
from dfl_graph.store import CatalogueReader, StoreError
from dfl_graph.web.access import snapshot


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.extensions["dfl.settings"] = settings
    app.extensions["dfl.reader"] = CatalogueReader(settings.data_dir)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.get("/healthz")
    def healthz():
        try:
            current = snapshot()
        except StoreError as error:
            return jsonify(status="unavailable", error=str(error)), 503
        return jsonify(status="ok", generation=current.generation, published_at=current.manifest.published_at)

    return app
