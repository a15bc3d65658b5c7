"""The Data for London web application: ``create_app(settings)`` (Flask application factory).

Views live in ``dfl_graph/web/``, one blueprint module per kind of resource or service; each
module exposes ``blueprint`` and is registered in :func:`register_blueprints`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify

from dfl_graph.config import Settings
from dfl_graph.sparql.activity import Activity
from dfl_graph.sparql.lanes import runtime_dir
from dfl_graph.store import CatalogueReader, StoreError
from dfl_graph.web.access import snapshot

WEB_DIR = Path(__file__).resolve().parent / "dfl_graph" / "web"


def register_blueprints(app: Flask) -> None:
    """Every view module of the application (import here, register below)."""
    from dfl_graph.web import (
        ckan_api,
        crawlers,
        errors,
        feed,
        harvest,
        library,
        named_queries,
        quality_report,
        site,
        sparql,
    )
    from dfl_graph.web.views import datasets, resources

    for blueprint in (
        errors.blueprint,
        site.blueprint,
        datasets.blueprint,
        resources.blueprint,
        feed.blueprint,
        crawlers.blueprint,
        library.blueprint,
        quality_report.blueprint,
        sparql.blueprint,
        named_queries.blueprint,
        ckan_api.blueprint,
        harvest.blueprint,
    ):
        app.register_blueprint(blueprint)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        static_folder=str(WEB_DIR / "static"),
        static_url_path="/static",
        template_folder=str(WEB_DIR / "templates"),
    )
    app.extensions["dfl.settings"] = settings
    app.extensions["dfl.reader"] = CatalogueReader(settings.data_dir)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = 1_000_000  # request bodies (SPARQL POSTs): 413 beyond
    app.before_request(Activity(runtime_dir(settings.data_dir)).mark)  # long queries yield to requests

    @app.get("/healthz")
    def healthz():
        try:
            current = snapshot()
        except StoreError as error:
            return jsonify(status="unavailable", error=str(error)), 503
        return jsonify(status="ok", generation=current.generation, published_at=current.manifest.published_at)

    register_blueprints(app)
    return app
