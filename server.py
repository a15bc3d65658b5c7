"""The Data for London web application: ``create_app(settings)`` (Flask application factory).

Views live in ``dfl_graph/web/``, one blueprint module per kind of resource or service; each
module exposes ``blueprint`` and is registered in :func:`register_blueprints`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, current_app, jsonify, redirect, request
from werkzeug.exceptions import HTTPException

from dfl_graph.config import Settings
from dfl_graph.sparql.activity import Activity
from dfl_graph.sparql.lanes import runtime_dir
from dfl_graph.store import CatalogueReader, StoreError
from dfl_graph.web.access import snapshot

WEB_DIR = Path(__file__).resolve().parent / "dfl_graph" / "web"


def register_blueprints(app: Flask) -> None:
    """Every view module of the application (import here, register below)."""
    from dfl_graph.web import (
        accounts,
        changes,
        ckan_api,
        ckan_writes,
        crawlers,
        errors,
        feed,
        graph_store,
        harvest,
        library,
        named_queries,
        publish_form,
        quality_report,
        site,
        sparql,
    )
    from dfl_graph.web.views import datasets, resources, services

    for blueprint in (
        errors.blueprint,
        site.blueprint,
        datasets.blueprint,
        services.blueprint,
        resources.blueprint,
        feed.blueprint,
        crawlers.blueprint,
        library.blueprint,
        quality_report.blueprint,
        sparql.blueprint,
        named_queries.blueprint,
        ckan_api.blueprint,
        ckan_writes.blueprint,
        graph_store.blueprint,
        harvest.blueprint,
        accounts.blueprint,
        changes.blueprint,
        publish_form.blueprint,
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
    app.extensions["dfl.reader"] = CatalogueReader(settings.data_dir, settings.backend())
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
    app.before_request(drop_trailing_slash)
    app.after_request(answer_preflight)
    return app


PREFLIGHT_HEADERS = "Accept, Accept-Language, Content-Type, If-Match, If-None-Match, If-Modified-Since, Range"


def drop_trailing_slash() -> Response | None:
    """``/dataset/x/`` -> 308 to ``/dataset/x`` when only the form without the slash names something (a client or
    a hand-typed link adding a slash must not get a 404)."""
    path = request.path
    if len(path) < 2 or not path.endswith("/") or request.url_rule is not None:
        return None
    adapter = current_app.url_map.bind("", url_scheme=request.scheme)
    try:
        adapter.match(path.rstrip("/"), method="GET")
    except HTTPException:  # no such resource either (or one that redirects elsewhere): leave the 404 alone
        return None
    query = request.query_string.decode("latin-1")
    return redirect(request.script_root + path.rstrip("/") + (f"?{query}" if query else ""), code=308)


def answer_preflight(response: Response) -> Response:
    """CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``) on every URI: any origin may read
    (the data is public and no request carries credentials), with the methods the URI answers (its ``Allow``,
    which lists only those) and the request headers a linked-data or SPARQL client sends."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return response
    if response.status_code >= 400:
        return response
    allowed = response.headers.get("Allow", "GET, HEAD, OPTIONS")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("Access-Control-Allow-Methods", allowed)
    response.headers.setdefault("Access-Control-Allow-Headers", PREFLIGHT_HEADERS)
    response.headers["Access-Control-Max-Age"] = "86400"
    return response
