"""`POST /voice`: one spoken turn in one call: audio -> transcript -> turn -> spoken reply."""

from __future__ import annotations

import base64
import time

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel

from ..schemas import AGENT_PATTERN, ID_PATTERN, to_response
from ..services import Services
from ..speech.audio import AudioError
from .deps import get_services, limit_user

router = APIRouter(tags=["voice"])
REPLY_TYPE = "audio/webm"


class Timings(BaseModel):
    stt_ms: int
    agent_ms: int
    tts_ms: int


class VoiceResponse(BaseModel):
    session_id: str
    transcript: str
    status_code: str
    query: str
    final_response: dict
    audio_base64: str
    audio_mime: str
    timings: Timings


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


@router.post("/voice", response_model=VoiceResponse)
async def voice(
    audio: UploadFile = File(...),
    session_id: str | None = Form(None, min_length=1, max_length=128, pattern=ID_PATTERN),
    user_id: str | None = Form(None, min_length=1, max_length=128, pattern=ID_PATTERN),
    agent: str | None = Form(None, min_length=1, max_length=64, pattern=AGENT_PATTERN),
    services: Services = Depends(get_services),
) -> VoiceResponse:
    await limit_user(services, user_id)
    started = time.perf_counter()
    transcript = (await services.speech.transcribe(await audio.read())).strip()
    stt_ms = _ms(started)
    if not transcript:
        raise AudioError("No speech was recognized in the audio; speak again, closer to the "
                         "microphone.")
    started = time.perf_counter()
    reply = to_response(await services.manager.turn(session_id, user_id, transcript[:4000],
                                                    agent=agent))
    agent_ms = _ms(started)
    started = time.perf_counter()
    spoken = reply.query if reply.status_code == "201" else \
        services.agents.get(reply.agent).definition.speak_result(reply.final_response)
    chunks = await services.speech.synthesize(spoken, None, REPLY_TYPE)
    audio_bytes = b"".join([chunk async for chunk in chunks])
    return VoiceResponse(
        session_id=reply.session_id, transcript=transcript, status_code=reply.status_code,
        query=reply.query, final_response=reply.final_response,
        audio_base64=base64.b64encode(audio_bytes).decode(), audio_mime=REPLY_TYPE,
        timings=Timings(stt_ms=stt_ms, agent_ms=agent_ms, tts_ms=_ms(started)))
