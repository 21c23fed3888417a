"""A fake of Google Places API (New) `places:searchText`, checking the key and field mask."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PLACES = [
    {"displayName": {"text": "Mahatma Gandhi Road", "languageCode": "en"},
     "formattedAddress": "Mahatma Gandhi Rd, Bengaluru, Karnataka, India",
     "location": {"latitude": 12.9756, "longitude": 77.6066}},
    {"displayName": {"text": "MG Road Metro Station", "languageCode": "en"},
     "formattedAddress": "MG Road Metro, Bengaluru, Karnataka, India",
     "location": {"latitude": 12.9755, "longitude": 77.6067}},
]


def make_app(api_key: str, calls: list[dict]) -> Starlette:
    async def search_text(request: Request) -> JSONResponse:
        body = await request.json()
        calls.append({"body": body, "headers": dict(request.headers)})
        if request.headers.get("x-goog-api-key") != api_key:
            return JSONResponse({"error": {"code": 403, "status": "PERMISSION_DENIED"}}, 403)
        if "places.displayName" not in request.headers.get("x-goog-fieldmask", ""):
            return JSONResponse({"error": {"code": 400, "status": "INVALID_ARGUMENT"}}, 400)
        if "nowhere" in body["textQuery"].lower():
            return JSONResponse({})
        return JSONResponse({"places": PLACES[: body.get("pageSize", 20)]})

    return Starlette(routes=[Route("/v1/places:searchText", search_text, methods=["POST"])])
