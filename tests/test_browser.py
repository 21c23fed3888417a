"""The voice page in a real browser: Playwright driving Debian's Chromium with a fake
microphone that plays a WAV the test synthesizes. One utterance is recorded, transcribed and
answered; the rest is typed; the booking card appears. A screenshot is kept in test-artifacts/.

Without Chromium the test skips, unless REQUIRE_BROWSER=1 (CI), which fails it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from agent_session.main import create_app
from agent_session.services import Overrides
from agent_session.speech.audio import encode
from agent_session.speech.tts.local import LocalTextToSpeech

from .conftest import make_settings
from .fakes.scripted_llm import ScriptedLLM, call
from .fakes.server import serve
from .helpers import observations

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Chromium is missing (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed")
    return CHROMIUM


async def utterance_wav(path: Path) -> None:
    """The fake microphone's input: a second of silence, the sentence, then silence."""
    tts = LocalTextToSpeech()
    samples = [chunk async for chunk in tts.stream(
        "I need a cab from MG Road to Koramangala tomorrow.", None)]
    await tts.close()
    silence = np.zeros(tts.sample_rate, np.float32)
    audio = np.concatenate([silence, *samples, silence, silence])
    path.write_bytes(encode(audio, tts.sample_rate, "audio/wav"))  # noqa: ASYNC240


def booking_llm() -> ScriptedLLM:
    def ask_time(request):
        return [call("prompt_user", question="What time should the cab pick you up?")]

    def finish(request):
        places = observations(request, "search_places")
        date = observations(request, "get_booking_date")[-1]
        return [call("final_answer", pickup_location=places[0]["places"][0]["address"],
                     destination=places[1]["places"][0]["address"], date=date["date"],
                     time=date["time"], preferences="sedan")]

    return ScriptedLLM([
        [call("search_places", text_query="MG Road"),
         call("search_places", text_query="Koramangala")],
        ask_time,
        [call("get_booking_date", user_input="tomorrow at 9 am")],
        [call("prompt_user", question="Which vehicle would you like?")],
        finish,
    ])


async def test_voice_page_books_a_cab(tmp_path):
    from playwright.async_api import async_playwright, expect

    executable = chromium()
    wav = tmp_path / "utterance.wav"
    await utterance_wav(wav)
    app = create_app(make_settings(), Overrides(llm=booking_llm()))
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(app, lifespan=True) as url:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=executable, headless=True,
                args=["--no-sandbox", "--use-fake-ui-for-media-stream",
                      "--use-fake-device-for-media-stream",
                      f"--use-file-for-fake-audio-capture={wav}%noloop",
                      "--autoplay-policy=no-user-gesture-required",
                      "--disable-background-networking", "--disable-component-update",
                      "--no-first-run", "--disable-sync",
                      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
            try:
                page = await browser.new_page()
                await page.goto(url)
                await expect(page.locator("#status")).to_have_text("Ready")
                await page.click("#record")
                await expect(page.locator("#status")).to_have_attribute("data-state",
                                                                        "listening")
                await page.wait_for_timeout(5000)
                await page.click("#record")
                user = page.locator("#log li.user").first
                await expect(user).to_contain_text("MG Road", timeout=30000)
                await expect(user).to_contain_text("Koramangala")
                await expect(page.locator("#log li.agent").first).to_have_text(
                    "What time should the cab pick you up?", timeout=30000)
                await expect(page.locator("#steps li")).to_have_count(2)
                await expect(page.locator("#status")).to_have_text("Ready", timeout=30000)

                await page.fill("#text", "9 am")
                await page.click("#send")
                await expect(page.locator("#log li.agent").nth(1)).to_have_text(
                    "Which vehicle would you like?", timeout=30000)
                await expect(page.locator("#status")).to_have_text("Ready", timeout=30000)
                await page.fill("#text", "a sedan")
                await page.click("#send")
                card = page.locator("#card")
                await expect(card).to_be_visible(timeout=30000)
                await expect(card.locator("[data-field=pickup_location]")).to_have_text(
                    "MG Road, Bengaluru, India")
                await expect(card.locator("[data-field=destination]")).to_have_text(
                    "Koramangala, Bengaluru, India")
                await expect(card.locator("[data-field=time]")).to_have_text("09:00")
                await expect(card.locator("[data-field=preferences]")).to_have_text("sedan")
                await expect(page.locator("#log li.error")).to_have_count(0)
                await expect(page.locator("#status")).to_have_text("Ready", timeout=30000)
                await page.screenshot(path=str(ARTIFACTS / "voice-page.png"), full_page=True)
            finally:
                await browser.close()
