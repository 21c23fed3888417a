"""Speech routes on the embedded engines (real faster-whisper and hibari models), audio decoding
of browser and file formats, every error status, and the Watson backends through the real SDK
against a fake Watson Speech."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Iterator

import av
import numpy as np
import pytest

from agent_session.main import create_app
from agent_session.services import Overrides
from agent_session.speech.audio import decode, encode
from agent_session.speech.stt.local import LocalSpeechToText
from agent_session.speech.tts.local import LocalTextToSpeech
from agent_session.tools.places.factory import place_vocabulary

from .conftest import make_settings, running
from .fakes.server import serve
from .fakes.tls import make_certificate
from .fakes.watson_speech import FakeWatsonSpeech

SENTENCES = [
    "I need a cab from MG Road to Koramangala tomorrow at nine am.",
    "Please pick me up from Indiranagar at six thirty in the evening.",
    "Book a taxi from Whitefield to the airport on Friday.",
]
NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
           "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
           "thirty": "30", "fifteen": "15", "forty": "40", "forty-five": "45"}


def normalize(text: str) -> list[str]:
    text = text.lower().replace("a.m.", "am").replace("p.m.", "pm")
    text = re.sub(r"(\d)(am|pm)\b", r"\1 \2", text)
    text = re.sub(r"(\d+):(\d+)", r"\1 \2", text)
    words = re.sub(r"[^a-z0-9' ]+", " ", text).split()
    return [NUMBERS.get(w, w) for w in words]


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize(reference), normalize(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / max(len(ref), 1)


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[LocalSpeechToText, LocalTextToSpeech]]:
    yield LocalSpeechToText(place_vocabulary()), LocalTextToSpeech()


@pytest.fixture
async def client(engines) -> AsyncIterator:
    stt, tts = engines
    app = create_app(make_settings(max_upload_bytes=2_000_000, max_audio_seconds=20),
                     Overrides(stt=stt, tts=tts))
    async with running(app) as c:
        yield c


async def speak(client, text: str, accept: str = "audio/wav") -> bytes:
    response = await client.post("/synthesize/", json={"text": text}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == accept
    return response.content


def reencode(wav: bytes, container: str, codec: str, rate: int) -> bytes:
    """Re-encode speech with PyAV into another container, as a browser or phone would send."""
    samples = decode(wav, 60).floats
    out = io.BytesIO()
    with av.open(out, "w", format=container) as dest:
        stream = dest.add_stream(codec, rate=rate, layout="mono")
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray((samples * 32767).astype(np.int16).reshape(1, -1),
                                           format="s16", layout="mono")
        frame.sample_rate = 16000
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                dest.mux(packet)
        for packet in stream.encode(None):
            dest.mux(packet)
    return out.getvalue()


async def test_round_trip_word_error_rate(client):
    rates = []
    for sentence in SENTENCES:
        wav = await speak(client, sentence)
        response = await client.post("/transcribe/", files={"audio": ("s.wav", wav,
                                                                      "audio/wav")})
        assert response.status_code == 200
        rates.append(word_error_rate(sentence, response.json()["text"]))
    assert sum(rates) / len(rates) < 0.15, rates


@pytest.mark.parametrize("container, codec, rate, mime", [
    ("webm", "libopus", 48000, "audio/webm"), ("ogg", "libopus", 48000, "audio/ogg"),
    ("mp3", "libmp3lame", 24000, "audio/mpeg"), ("ipod", "aac", 16000, "audio/mp4"),
])
async def test_browser_and_file_formats_decode(client, container, codec, rate, mime):
    wav = await speak(client, "Book a taxi from Whitefield to the airport.")
    data = reencode(wav, container, codec, rate)
    response = await client.post("/process-audio/", files={"file": (f"a.{container}", data,
                                                                    mime)})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success" and body["message"] == "Audio processed successfully"
    assert word_error_rate("Book a taxi from Whitefield to the airport.", body["text"]) < 0.3


@pytest.mark.parametrize("accept, expected, magic", [
    (None, "audio/webm", b"\x1aE\xdf\xa3"), ("*/*", "audio/webm", b"\x1aE\xdf\xa3"),
    ("audio/ogg", "audio/ogg", b"OggS"), ("audio/wav", "audio/wav", b"RIFF"),
    ("audio/x-wav;q=0.5, audio/ogg;q=0.9", "audio/ogg", b"OggS"),
])
async def test_synthesize_formats(client, accept, expected, magic):
    headers = {"Accept": accept} if accept else {}
    response = await client.post("/synthesize/", json={"text": "Where to?"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert response.content.startswith(magic)
    assert 0.3 < decode(response.content, 60).seconds < 5


@pytest.mark.parametrize("text", ["Gate \u00b9", "\u0663 cats", "\u00b2\u00b3"])
async def test_odd_digits_are_spoken_not_a_500(client, text):
    """hibari's number reader took every `isdigit()` character for a digit (schemathesis found
    "\u00b9", which crashed it)."""
    response = await client.post("/synthesize/", json={"text": text},
                                 headers={"Accept": "audio/wav"})
    assert response.status_code == 200 and response.content.startswith(b"RIFF")


async def test_long_text_streams_sentence_by_sentence(engines):
    """Each sentence's audio leaves as soon as it is encoded (the ASGI test client would buffer
    the response, so the service's stream is read directly)."""
    from agent_session.speech.service import SpeechService

    stt, tts = engines
    service = SpeechService(stt, tts, 120)
    text = " ".join(["Your cab from MG Road to Koramangala is booked for tomorrow."] * 4)
    chunks = [chunk async for chunk in await service.synthesize(text, None, "audio/webm")]
    assert len(chunks) >= 5  # header + a cluster per sentence + trailer
    assert decode(b"".join(chunks), 60).seconds > 8


@pytest.mark.parametrize("files, status, detail", [
    ({"audio": ("e.wav", b"", "audio/wav")}, 400, "empty"),
    ({"audio": ("x.wav", b"RIFF not really audio" * 50, "audio/wav")}, 400, "could not"),
    ({"other": ("x.wav", b"abc", "audio/wav")}, 400, "'audio' or 'file'"),
])
async def test_bad_uploads(client, files, status, detail):
    response = await client.post("/transcribe/", files=files)
    assert response.status_code == status
    assert detail in response.json()["detail"]


async def test_too_large_and_too_long_audio_are_413(client):
    big = await client.post("/transcribe/", files={"audio": ("b.wav", b"0" * 2_100_000,
                                                             "audio/wav")})
    assert big.status_code == 413
    silence = encode(np.zeros(16000 * 25, np.float32), 16000, "audio/ogg")
    long = await client.post("/transcribe/", files={"audio": ("l.ogg", silence, "audio/ogg")})
    assert long.status_code == 413 and "longer than 20 seconds" in long.json()["detail"]


@pytest.mark.parametrize("body, accept, status", [
    ({"text": ""}, None, 422), ({"text": "x" * 5001}, None, 422), ({}, None, 422),
    ({"text": "   "}, None, 422), ({"text": "hi", "voice": "emma"}, None, 422),
    ({"text": "hi"}, "text/html", 406), ({"text": "hi"}, "audio/flac", 406),
])
async def test_synthesize_errors(client, body, accept, status):
    headers = {"Accept": accept} if accept else {}
    response = await client.post("/synthesize/", json=body, headers=headers)
    assert response.status_code == status


async def test_concurrent_transcriptions_do_not_interfere(client):
    texts = ["Take me to Charminar.", "I am going to Connaught Place.",
             "Pick me up at Gateway of India."]
    audio = [await speak(client, text) for text in texts]
    responses = await asyncio.gather(*(
        client.post("/transcribe/", files={"audio": ("a.wav", data, "audio/wav")})
        for data in audio * 2))
    for response, text in zip(responses, texts * 2, strict=True):
        assert word_error_rate(text, response.json()["text"]) <= 0.34, response.json()


# -- Watson ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def watson(tmp_path_factory) -> Iterator[tuple[FakeWatsonSpeech, str, str]]:
    cert, key = make_certificate(tmp_path_factory.mktemp("speech-tls"))
    fake = FakeWatsonSpeech()
    with serve(fake.app(), cert, key) as url:
        yield fake, url, str(cert)


def watson_settings(url: str, cert: str, **overrides):
    values = {"stt_api_key": "speech-key", "stt_url": url, "stt_auth_url": f"{url}/identity/token",
              "stt_verify": cert, "tts_api_key": "speech-key", "tts_url": url,
              "tts_auth_url": f"{url}/identity/token", "tts_verify": cert}
    values.update(overrides)
    return make_settings(**values)


async def test_watson_speech_through_the_sdk(watson):
    fake, url, cert = watson
    fake.fail_with, fake.calls[:] = None, []
    app = create_app(watson_settings(url, cert))
    async with running(app) as client:
        upload = encode(np.zeros(16000, np.float32), 16000, "audio/webm")
        response = await client.post("/transcribe/", files={"audio": ("a.webm", upload,
                                                                      "audio/webm")})
        assert response.status_code == 200
        assert response.json() == {"text": "book a cab to the airport"}
        recognize = fake.calls[0]
        assert recognize["content_type"] == "audio/l16;rate=16000"
        assert recognize["query"]["model"] == "en-US_BroadbandModel"
        assert recognize["query"]["smart_formatting"] == "true"
        assert recognize["bytes"] == 32000

        spoken = await client.post("/synthesize/", json={"text": "Your cab is booked."},
                                   headers={"Accept": "audio/ogg"})
        assert spoken.status_code == 200 and spoken.content.startswith(b"OggS")
        synth = fake.calls[1]
        assert synth["query"]["voice"] == "en-US_LisaV3Voice"
        assert synth["body"] == {"text": "Your cab is booked."}
        assert synth["accept"] == "audio/wav"
        assert decode(spoken.content, 60).seconds > 1


@pytest.mark.parametrize("overrides, fail, detail", [
    ({"stt_api_key": "wrong", "tts_api_key": "wrong"}, None, "rejected the credentials"),
    ({}, 503, "HTTP 503"),
    ({}, 429, "rate limiting"),
])
async def test_watson_failures_are_503(watson, overrides, fail, detail):
    fake, url, cert = watson
    fake.fail_with = fail
    try:
        app = create_app(watson_settings(url, cert, **overrides))
        async with running(app) as client:
            upload = encode(np.zeros(8000, np.float32), 16000, "audio/wav")
            response = await client.post("/transcribe/", files={"audio": ("a.wav", upload,
                                                                          "audio/wav")})
            assert response.status_code == 503 and detail in response.json()["detail"]
            spoken = await client.post("/synthesize/", json={"text": "hi"})
            assert spoken.status_code == 503 and detail in spoken.json()["detail"]
            assert "wrong" not in response.text
    finally:
        fake.fail_with = None


async def test_watson_unreachable_is_503():
    from .fakes.server import free_port

    url = f"https://127.0.0.1:{free_port()}"
    app = create_app(watson_settings(url, "true"))
    async with running(app) as client:
        upload = encode(np.zeros(8000, np.float32), 16000, "audio/wav")
        response = await client.post("/transcribe/", files={"audio": ("a.wav", upload,
                                                                      "audio/wav")})
        assert response.status_code == 503
