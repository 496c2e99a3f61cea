"""The app's one server: Gradio's FastAPI app, with beside Gradio's routes the in-browser page (/web/), the
event store's REST API (/api/v1/..., facemask.events.api), Prometheus' /metrics and the API's OpenAPI
docs (/docs, /openapi.json: facemask.events.docs), and the brake on failed logins (facemask.app.access).

They are given to `demo.launch` (its app_kwargs: routes before Gradio's own, and middleware) rather than
mounting Gradio inside an app of ours: so launch still does what it does for `--share` and on Hugging Face
Spaces. Gradio's own routes stay out of the OpenAPI schema, which is built from the API's routes only.
The API and /metrics ask for FACEMASK_API_TOKEN when it is set (facemask.events.auth); the docs do not
(they hold no data).
"""

from __future__ import annotations

from typing import Any

from facemask.app.access import login_brake
from facemask.app.web_page import routes as web_page_routes
from facemask.events.api import events_router
from facemask.events.docs import docs_routes
from facemask.events.metrics import metrics_router
from facemask.events.store import EventStore


def server_kwargs(store: EventStore | None = None, metrics: bool = False) -> dict[str, Any]:
    """demo.launch's app_kwargs: the page, the API over `store` (none without one), /metrics if `metrics`,
    the login brake; and Gradio's own schema turned off (the API's takes its place)."""
    routes = web_page_routes()
    api = list(events_router(store).routes) if store is not None else []
    routes += api + (list(metrics_router().routes) if metrics else [])
    routes += docs_routes(api) if api else []
    return {"routes": routes, "middleware": login_brake(), "openapi_url": None}


def open_api_warning(store: EventStore | None, login: bool, environ: dict[str, str]) -> str | None:
    """What to tell the operator when the tabs ask for a login but the API over the store asks for nothing."""
    if store is None or not login or environ.get("FACEMASK_API_TOKEN"):
        return None
    return (
        "WARNING: --auth guards the tabs, not the REST API (/api/v1) or /metrics: set FACEMASK_API_TOKEN "
        "to ask every API request for it"
    )
