"""A catalogue with London's publishers and boroughs, served over HTTP, for the Library's page tests.

The 2010 London Datastore listing (no publishers, no files) plus a deterministic synthetic DataPress export
(`dfl generate`: real London publishers, councils and boroughs, synthetic titles) plus one small dataset
whose files a local "portal" serves, so distribution previews can be fetched for real.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from conftest import LiveServer, dfl, free_port, live_server, load_default
from portal_server import PortalServer, Reply

STOPS_CSV = b"stop_id,name,borough,lat,lon\n490000001,Hackney Central,Hackney,51.547,-0.056\n" + b"".join(
    f"49000{i:04d},Stop {i},Hackney,51.5{i % 10},-0.0{i % 10}\n".encode() for i in range(2, 30)
)
STOPS_JSON = json.dumps([{"stop_id": "490000001", "name": "Hackney Central", "routes": [38, 242]}]).encode()


def _preview_export(portal: PortalServer) -> list[dict]:
    """One dataset of Hackney bus stops: a CSV and a JSON file the local portal serves."""
    files = {"stops.csv": ("text/csv", STOPS_CSV), "stops.json": ("application/json", STOPS_JSON)}
    resources = []
    for name, (media_type, body) in files.items():
        url = portal.route(f"/download/stops/{name}", Reply(body, content_type=media_type))
        resources.append(
            {
                "dataset": "stp01",
                "webpage": "https://data.london.gov.uk/dataset/hackney-bus-stops-stp01",
                "id": f"stp01-{name.replace('.', '-')}",
                "title": name,
                "url": url,
                "description": "",
                "timeframeFrom": None,
                "timeframeTo": None,
                "size": len(body),
                "hash": None,
                "timestamp": "2024-05-01T10:00:00",
                "filename": name,
            }
        )
    return [
        {
            "webpage": "https://data.london.gov.uk/dataset/hackney-bus-stops-stp01",
            "id": "stp01",
            "description": "<p>Bus stops in Hackney:</p><ul><li>their names</li><li>their positions</li></ul>",
            "title": "Hackney bus stops",
            "createdAt": "2024-01-01T00:00:00.000Z",
            "updatedAt": "2024-05-01T00:00:00.000Z",
            "nextReviewDate": None,
            "sharing": "public",
            "masthead": {"id": "hackney", "title": "London Borough of Hackney"},
            "team": {"id": "hackney-team", "title": "London Borough of Hackney"},
            "topics": [{"id": "transport", "title": "Transport"}],
            "tags": ["buses", "bus-stops"],
            "licence": {"id": "OGLv3", "title": "UK Open Government Licence (OGL v3)"},
            "contact": {"name": "Open data", "email": "opendata@hackney.gov.uk"},
            "resources": resources,
            "links": [],
            "custom": {"borough": "Hackney", "update_frequency": "Monthly"},
        }
    ]


@contextlib.contextmanager
def london_server(root: Path, generated: int = 400) -> Iterator[LiveServer]:
    """The 2010 listing, ``generated`` synthetic London datasets and the bus-stops dataset, served with
    previews allowed from the local portal."""
    data_dir, port = root / "catalogue", free_port()
    base = f"http://127.0.0.1:{port}"
    with PortalServer() as portal:
        load_default(data_dir, base)
        export = root / "generated.json"
        dfl("generate", str(generated), str(export))
        dfl("--base", base, "load", "datapress", str(export), "--source", "generated", "--store", str(data_dir))
        stops = root / "stops.json"
        stops.write_text(json.dumps(_preview_export(portal)))
        dfl("--base", base, "load", "datapress", str(stops), "--source", "hackney", "--store", str(data_dir))
        with live_server(data_dir, port, env={"DFL_PREVIEW_LOCAL_HOSTS": "1"}) as server:
            yield server
