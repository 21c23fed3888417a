"""Speech routes: `/transcribe/`, `/process-audio/`, `/synthesize/`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from ..errors import ServiceError
from ..services import Services
from ..speech.audio import AudioError, negotiate
from .deps import get_services

router = APIRouter(tags=["speech"])


class Transcript(BaseModel):
    text: str


class ProcessedAudio(BaseModel):
    status: str = "success"
    text: str
    message: str = "Audio processed successfully"


class SynthesizeRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    voice: str | None = Field(None, min_length=1, max_length=100)


async def _read(primary: UploadFile | None, secondary: UploadFile | None) -> bytes:
    upload = primary or secondary
    if upload is None:
        raise AudioError("Send the audio as a multipart file field named 'audio' or 'file'.")
    return await upload.read()


@router.post("/transcribe/", response_model=Transcript)
async def transcribe(audio: UploadFile | None = File(None), file: UploadFile | None = File(None),
                     services: Services = Depends(get_services)) -> Transcript:
    text = await services.speech.transcribe(await _read(audio, file))
    return Transcript(text=text)


@router.post("/process-audio/", response_model=ProcessedAudio)
async def process_audio(file: UploadFile | None = File(None),
                        audio: UploadFile | None = File(None),
                        services: Services = Depends(get_services)) -> ProcessedAudio:
    text = await services.speech.transcribe(await _read(file, audio))
    return ProcessedAudio(text=text)


@router.post("/synthesize/", response_class=StreamingResponse,
             responses={200: {"content": {"audio/webm": {}, "audio/ogg": {}, "audio/wav": {}}},
                        406: {"description": "unsupported Accept"}})
async def synthesize(body: SynthesizeRequest, request: Request,
                     services: Services = Depends(get_services)) -> StreamingResponse:
    media_type = negotiate(request.headers.get("accept"))
    if not body.text.strip():
        raise _EmptyText("The text to speak is blank.")
    chunks = await services.speech.synthesize(body.text, body.voice, media_type)
    return StreamingResponse(chunks, media_type=media_type)


class _EmptyText(ServiceError):
    status_code = 422
