"""The browser voice client: one static page and its assets, served by the app (no CDN)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["web"], include_in_schema=False)
ASSETS = {"app.js": "text/javascript", "capture.js": "text/javascript", "style.css": "text/css"}


def _read(name: str) -> str:
    return (resources.files("agent_session") / "web" / name).read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def index() -> HTMLResponse:
    return HTMLResponse(_read("index.html"))


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail="No such file.")
    return Response(_read(name), media_type=ASSETS[name],
                    headers={"Cache-Control": "no-cache"})
