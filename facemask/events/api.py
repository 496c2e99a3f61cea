"""The event store over HTTP: read-only routes in a FastAPI router, mounted beside the Gradio app on the
same server (Gradio runs on FastAPI), documented in the app's OpenAPI schema (/docs, /openapi.json):

    GET /api/v1/people      settled people            filters: source, zone, since, until (first seen)
    GET /api/v1/intervals   interval tallies          filters: source, zone, since, until (start)
    GET /api/v1/cameras     camera status changes     filters: source, since, until
    GET /api/v1/alerts      alerts                    filters: source, zone, since, until

Rows come in time order, `limit` (at most 1000) from `offset`, with the number of rows that match in
all; `?format=csv` gives them as CSV instead. With FACEMASK_API_TOKEN set, every route asks for
`Authorization: Bearer <token>` (compared in constant time; the token is never printed or logged).

No `from __future__ import annotations` here: FastAPI reads the routes' annotations, which name
objects local to the functions that make the routes.
"""

import csv
import io
import os
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.exc import InterfaceError, OperationalError

from facemask.events.auth import bearer_check
from facemask.events.store import EventStore

T = TypeVar("T", bound=BaseModel)
MAX_LIMIT = 1000


class Row(BaseModel):
    id: int
    key: str
    run_id: str
    source: str


class Person(Row):
    zone: str
    track_id: int
    first_seen: datetime
    last_seen: datetime
    frames: int
    verdict: str
    confidence: float
    snapshot: str | None = None


class Interval(Row):
    zone: str
    start_at: datetime
    end_at: datetime
    frames: int | None = None  # frames analysed in it: 0 while the camera was down (unknown for older rows)
    people: int
    masked: int
    unmasked: int
    compliance_rate: float | None = None


class CameraStatus(Row):
    status: str
    detail: str
    at: datetime


class Alert(Row):
    rule: str
    rule_kind: str
    zone: str
    at: datetime
    value: float
    message: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int  # rows matching the filters, on every page
    limit: int
    offset: int


#: path: (event kind, row model, summary)
ROUTES = {
    "people": ("person", Person, "Settled people, one verdict each"),
    "intervals": ("interval", Interval, "People and compliance per interval"),
    "cameras": ("camera", CameraStatus, "Camera status changes: opened, lost, retried, given_up, ended"),
    "alerts": ("alert", Alert, "Alerts fired by the alert rules"),
}


def events_router(store: EventStore, auth: Callable[..., None] | None = None) -> APIRouter:
    """The /api/v1 routes over `store`; `auth` defaults to the bearer check of FACEMASK_API_TOKEN."""
    router = APIRouter(prefix="/api/v1", tags=["events"], dependencies=[Depends(auth or bearer_check())])
    for path, (kind, model, summary) in ROUTES.items():
        router.add_api_route(
            f"/{path}",
            _endpoint(store, kind, model),
            methods=["GET"],
            summary=summary,
            response_model=Page[model],
            responses={200: {"content": {"text/csv": {}}}},
        )
    return router


def standalone_app():
    """The REST API and /metrics on their own, over FACEMASK_DB, for when the Gradio app is not wanted:
    `FACEMASK_DB=postgresql://... uvicorn --factory facemask.events.api:standalone_app`."""
    from fastapi import FastAPI

    from facemask.events.docs import TITLE, docs_routes
    from facemask.events.metrics import metrics_router
    from facemask.events.options import open_store

    url = os.environ.get("FACEMASK_DB")
    if not url:
        raise RuntimeError("set FACEMASK_DB to the event store's URL")
    app = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url=None)  # its docs need a CDN
    api = list(events_router(open_store(url)).routes)
    app.router.routes.extend([*api, *metrics_router().routes, *docs_routes(api)])  # as the app serves them
    return app


def _endpoint(store: EventStore, kind: str, model: type[BaseModel]) -> Callable[..., Any]:
    zoned = "zone" in model.model_fields
    page = TypeAdapter(Page[model])  # the documented response, checked and written by pydantic itself

    def endpoint(
        source: str | None = None,
        zone: Annotated[str | None, Query(include_in_schema=zoned)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        format: Literal["json", "csv"] = "json",
    ) -> Any:
        try:
            if not store.ready:
                store.open()  # the database was away when the server started
            rows, total = store.page(kind, source, zone if zoned else None, since, until, limit, offset)
        except (OperationalError, InterfaceError):
            raise HTTPException(503, "the event store cannot be reached; try again later") from None
        if format == "csv":
            return csv_response(rows, list(model.model_fields), f"{path_of(kind)}.csv")
        found = page.validate_python({"items": rows, "total": total, "limit": limit, "offset": offset})
        return Response(page.dump_json(found), media_type="application/json")

    return endpoint


def path_of(kind: str) -> str:
    return next(path for path, route in ROUTES.items() if route[0] == kind)


def csv_response(rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()})
    return Response(
        out.getvalue(), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
