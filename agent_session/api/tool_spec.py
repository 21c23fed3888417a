"""`GET /openapi-3.0.json`: the service as tools for watsonx Orchestrate and watsonx Assistant."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..openapi30 import importable_spec

router = APIRouter(tags=["tools"])


@router.get("/openapi-3.0.json", include_in_schema=False)
async def openapi_30(request: Request) -> JSONResponse:
    """The server named is `PUBLIC_BASE_URL`, else the URL this request came in on (behind a
    trusted proxy, as its `X-Forwarded-Proto`/`-Host` say)."""
    settings = request.app.state.settings
    server = settings.public_base_url or str(request.base_url)
    agents = [(a.name, a.definition.description or a.name)
              for a in request.app.state.services.agents]
    return JSONResponse(importable_spec(request.app.openapi(), server, bool(settings.api_keys),
                                        agents))
