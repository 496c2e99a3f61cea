"""The REST API's OpenAPI schema (/openapi.json) and a Swagger UI page over it (/docs), served whole from
this machine: FastAPI's own page loads Swagger UI from a CDN, and stays blank on a venue's network that
has no internet. The swagger-ui-bundle wheel ships Swagger UI's files; they are served at /docs/assets."""

from __future__ import annotations

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from facemask import __version__

TITLE = "facemask events"
DESCRIPTION = "What the cameras of a facemask app settled: people, intervals, camera status changes, alerts."
ASSETS = "/docs/assets"


def docs_routes(api: list[BaseRoute]) -> list[BaseRoute]:
    """/openapi.json (the schema of `api`), /docs (Swagger UI over it) and the page's own files."""
    schema = get_openapi(title=TITLE, version=__version__, routes=api, description=DESCRIPTION)

    async def openapi(_request: Request) -> JSONResponse:
        return JSONResponse(schema)

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=TITLE,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )

    return [
        Route("/openapi.json", openapi, include_in_schema=False),
        Route("/docs", docs, include_in_schema=False),
        Mount(ASSETS, app=StaticFiles(directory=str(swagger_ui_path)), name="docs-assets"),
    ]
