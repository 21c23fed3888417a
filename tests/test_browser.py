"""The voice page in a real browser: Playwright driving Debian's Chromium with a fake
microphone that plays a WAV the test synthesizes. One utterance is recorded, transcribed and
answered; the rest is typed; the booking card appears. A screenshot is kept in test-artifacts/.

Without Chromium the test skips, unless REQUIRE_BROWSER=1 (CI), which fails it."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from agent_session.main import create_app
from agent_session.services import Overrides

from .conftest import make_settings
from .fakes.scripted_llm import ScriptedLLM, call
from .fakes.server import serve
from .helpers import observations
from .speech_samples import spoken_wav

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Chromium is missing (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed")
    return CHROMIUM


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
    from playwright.async_api import expect

    chromium()
    wav = tmp_path / "utterance.wav"
    await spoken_wav(wav, [1.0, "I need a cab from MG Road to Koramangala tomorrow.", 2.0])
    app = create_app(make_settings(), Overrides(llm=booking_llm()))
    async with page_on(app, wav) as page:
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


@asynccontextmanager
async def page_on(app, wav: Path) -> AsyncIterator:
    """The app served on 127.0.0.1 and open in Chromium, whose microphone plays `wav`."""
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with serve(app, lifespan=True) as url:
        async with async_playwright() as pw:
            browser = await launch(pw, wav)
            try:
                page = await browser.new_page()
                await page.goto(url)
                yield page
            finally:
                await browser.close()


async def launch(pw, wav: Path):
    return await pw.chromium.launch(
        executable_path=chromium(), headless=True,
        args=["--no-sandbox", "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-audio-capture={wav}%noloop",
              "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
              "--disable-component-update", "--no-first-run", "--disable-sync",
              "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])


async def test_hands_free_booking_with_one_click(tmp_path):
    """One click on Hands-free, then only talking: three utterances, three turns, a booking."""
    from playwright.async_api import expect

    chromium()
    wav = tmp_path / "three-answers.wav"
    await spoken_wav(wav, [1.0, "I need a cab from MG Road to Koramangala tomorrow.", 5.0,
                              "At nine in the morning.", 5.0, "A sedan, please.", 4.0])
    app = create_app(make_settings(), Overrides(llm=booking_llm()))
    async with page_on(app, wav) as page:
        await page.click("#handsfree")
        agent = page.locator("#log li.agent")
        await expect(agent.first).to_have_text("What time should the cab pick you up?",
                                               timeout=30000)
        await expect(agent.nth(1)).to_have_text("Which vehicle would you like?",
                                                timeout=30000)
        card = page.locator("#card")
        await expect(card).to_be_visible(timeout=30000)
        await expect(card.locator("[data-field=time]")).to_have_text("09:00")
        users = page.locator("#log li.user")
        await expect(users).to_have_count(3)
        await expect(users.first).to_contain_text("Koramangala")
        await expect(page.locator("#log li.error")).to_have_count(0)
        stats = await page.evaluate("window.voiceStats")
        assert stats["turns"] == 3 and stats["frames"] > 500, stats
        await page.wait_for_timeout(1500)  # the last reply spoken
        await page.screenshot(path=str(ARTIFACTS / "voice-page-hands-free.png"),
                              full_page=True)


async def test_hands_free_barge_in_stops_the_reply(tmp_path):
    """The user talks over a long spoken question: the page gets `interrupted`, its playback
    stops, and what the user said is the next turn."""
    from playwright.async_api import expect

    chromium()
    wav = tmp_path / "barge-in.wav"
    await spoken_wav(wav, [1.0, "I need a cab from MG Road.", 2.2,
                              "Actually, I want to go to the airport.", 4.0])
    long_question = ("Where are you going? You can say a place, like the airport, the railway "
                     "station, or your office, and I will find it for you.")
    llm = ScriptedLLM([[call("prompt_user", question=long_question)],
                       [call("prompt_user", question="What day do you need the cab?")]])
    app = create_app(make_settings(), Overrides(llm=llm))
    async with page_on(app, wav) as page:
        await page.click("#handsfree")
        await expect(page.locator("#log li.agent").nth(1)).to_have_text(
            "What day do you need the cab?", timeout=30000)
        stats = await page.evaluate("window.voiceStats")
        assert stats["interrupted"] == 1, stats
        users = page.locator("#log li.user")
        await expect(users).to_have_count(2)
        await expect(users.nth(1)).to_contain_text("airport")
        await expect(page.locator("#log li.error")).to_have_count(0)
