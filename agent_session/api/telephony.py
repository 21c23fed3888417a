"""Phone calls (`voice/twilio.py`, `voice/exotel.py`): Twilio's voice webhook and media stream,
Exotel's voicebot stream. The webhook is Twilio's to sign, not ours to key: it is checked with
its signature; the streams are checked by their binding (Twilio) or at the edge (Exotel)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, WebSocket
from fastapi.responses import Response

from ..errors import ServiceError
from ..voice.carrier import carrier_call
from ..voice.exotel import RATES, ExotelStream
from ..voice.pipeline import Refusal
from ..voice.twilio import BadSignature, TwilioStream, answer_call, check_signature

router = APIRouter(tags=["telephony"])


def public_url(request: Request) -> str:
    """The URL Twilio called (and signed): `PUBLIC_BASE_URL` with this path and query, else the
    request's own (a trusted proxy's forwarded scheme and host already applied)."""
    base = request.app.state.settings.public_base_url
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return base.rstrip("/") + request.url.path + query


@router.post("/telephony/twilio/voice", include_in_schema=False)
async def twilio_voice(request: Request, agent: str | None = Query(None)) -> Response:
    services = request.app.state.services
    token = services.settings.twilio_auth_token
    if token is None:
        return Response(status_code=404)
    form = {key: str(value) for key, value in (await request.form()).items()}
    url = public_url(request)
    try:
        check_signature(token.get_secret_value(), url, form,
                        request.headers.get("x-twilio-signature"))
    except BadSignature:
        return Response("The request is not signed with this account's auth token.",
                        status_code=403)
    try:
        twiml = await answer_call(services, form, agent, url)
    except Refusal as refusal:
        return Response(refusal.detail, status_code=refusal.status)
    except ServiceError as exc:
        return Response(exc.detail, status_code=exc.status_code, headers=exc.headers)
    return Response(twiml, media_type="text/xml")


@router.websocket("/telephony/twilio/stream")
async def twilio_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    await carrier_call(websocket.app.state.services, TwilioStream(websocket), websocket)


@router.websocket("/telephony/exotel/stream")
async def exotel_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    rate = websocket.query_params.get("sample-rate", "8000")
    if not rate.isdigit() or int(rate) not in RATES:
        await websocket.close(code=1008, reason=f"sample-rate must be one of {RATES}")
        return
    agent = websocket.query_params.get("agent")
    await carrier_call(websocket.app.state.services,
                       ExotelStream(websocket, int(rate), agent), websocket)
