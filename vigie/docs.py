"""`/docs`: Swagger UI for the API's OpenAPI document, its script and styles served from
the package (vigie/static/swagger-ui/, a vendored swagger-ui-dist): nothing is loaded from
a CDN, so the page works offline and behind a firewall."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_URL = "/static/swagger-ui"


def add_docs(app: FastAPI) -> None:
    """/docs and its assets under /static/swagger-ui. Like /openapi.json, they hold no data
    and are served without the API token."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="swagger-ui")

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon-32x32.png",
        )

    app.add_route("/docs", docs, include_in_schema=False)
