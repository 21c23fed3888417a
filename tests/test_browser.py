"""The voice page in a real browser: Playwright driving Debian's Chromium with a fake
microphone that plays a WAV the test synthesizes. One utterance is recorded, transcribed and
answered; the rest is typed; the result card appears. With two agents served, the page offers
both and talks to the one chosen, in its own words. Screenshots are kept in test-artifacts/.

Without Chromium the test skips, unless REQUIRE_BROWSER=1 (CI), which fails it."""

from __future__ import annotations

import asyncio
import json
import os
import re
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
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CAB = str(ROOT / "agent_session" / "data" / "cab_agent.yaml")
TABLES = str(ROOT / "tests" / "agents" / "tables.yaml")
# Words of the cab agent the page itself must never show for another agent.
CAB_WORDS = re.compile(r"pickup|booking confirmed|\bcab\b|vehicle", re.IGNORECASE)
# Symbols that need an emoji or symbol font Debian's Chromium does not have.
SYMBOLS = re.compile("[\u2300-\u23ff\u25a0-\u25ff\u2600-\u27bf\U0001f000-\U0001faff]")


def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Chromium is missing (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed")
    return CHROMIUM


def slow(seconds: float, step):
    """A model step that takes `seconds` before it answers."""
    async def later(request):
        await asyncio.sleep(seconds)
        return step
    return later


def booking_llm(model_seconds: float = 0.0) -> ScriptedLLM:
    def ask_time(request):
        return [call("prompt_user", question="What time should the cab pick you up?")]

    def finish(request):
        places = observations(request, "search_places")
        date = observations(request, "get_booking_date")[-1]
        return [call("final_answer", pickup_location=places[0]["places"][0]["address"],
                     destination=places[1]["places"][0]["address"], date=date["date"],
                     time=date["time"], preferences="sedan")]

    return ScriptedLLM([
        slow(model_seconds, [call("search_places", text_query="MG Road"),
                             call("search_places", text_query="Koramangala")]),
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
    app = create_app(make_settings(), Overrides(llm=booking_llm(model_seconds=1.5)))
    async with page_on(app, wav) as page:
        await expect(page.locator("#status")).to_have_text("Ready")
        await expect(page.locator("body")).to_have_attribute("data-agents", "1")
        await expect(page.locator("#agent-picker")).to_be_hidden()  # one agent: no choice
        await expect(page.locator("#agent-name")).to_have_text("cab-booking")
        await expect(page).to_have_title(re.compile("^cab-booking"))
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
        steps = page.locator("#steps li")
        await expect(steps).to_have_count(2)
        for i in range(2):  # each step shows its own time: the search, not the 1.5 s model call
            ms = int(await steps.nth(i).get_attribute("data-ms"))
            assert 0 <= ms < 1500, ms
            await expect(steps.nth(i).locator(".ms")).to_have_text(f"({ms} ms)")
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
        await expect(card.locator("h3")).to_have_text("Done")
        schema = (await agents_of(page))[0]["result_schema"]["properties"]
        await expect(card.locator("dt")).to_have_text(  # the schema's words, not the page's
            [schema[f]["title"] for f in ("pickup_location", "destination", "date",
                                          "time", "preferences")])
        assert "Booking confirmed" not in await card.inner_text()
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
        sent: list[str] = []
        page.on("websocket", lambda ws: ws.on(
            "framesent", lambda frame: sent.append(frame) if isinstance(frame, str) else None))
        await expect(page.locator("body")).to_have_attribute("data-agents", "1")
        await page.click("#handsfree")
        await expect(page.locator("#handsfree")).to_have_text("Stop hands-free")
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
        start = json.loads(sent[0])
        assert (start["type"], start["agent"]) == ("start", "cab-booking"), start
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


async def agents_of(page) -> list[dict]:
    """`GET /agents` as the page sees it."""
    return (await page.evaluate("fetch('/agents').then((r) => r.json())"))["agents"]


def label(schema: dict, field: str) -> str:
    """What the result card must call a field: the schema's title, else its description."""
    prop = schema["properties"][field]
    return prop.get("title") or prop.get("description") or field.replace("_", " ")


async def test_every_agent_has_its_own_page(tmp_path):
    """Two agents served: the picker offers both; the tables agent's questions, confirmation,
    result and hand-off appear in its own words, with no word of the cab agent; every turn names
    the agent chosen, and choosing another starts a new session."""
    from playwright.async_api import expect

    chromium()
    wav = tmp_path / "silence.wav"
    await spoken_wav(wav, [1.0])
    llm = ScriptedLLM([{"guests": "six", "date": "tomorrow", "time": "8 pm"},
                       {"name": "Priya Raman"},
                       {}])  # the cab agent's first turn: nothing to extract
    app = create_app(make_settings(agents=[CAB, TABLES], agent_strategy="form"),
                     Overrides(llm=llm))
    async with page_on(app, wav) as page:
        turns: list[dict] = []
        page.on("request", lambda r: turns.append(json.loads(r.post_data))
                if r.url.endswith("/chat/stream") else None)
        await expect(page.locator("body")).to_have_attribute("data-agents", "2")
        picker = page.locator("#agent")
        await expect(page.locator("#agent-picker")).to_be_visible()
        await expect(picker.locator("option")).to_have_text(["cab-booking", "tables"])
        await expect(page.locator("#agent-name")).to_have_text("cab-booking")

        await picker.select_option("tables")
        await expect(page.locator("#agent-name")).to_have_text("tables")
        await expect(page.locator("#agent-description")).to_have_text(
            "Books a table for a party on a day and time under a name.")
        await expect(page).to_have_title(re.compile("^tables"))
        assert page.url.endswith("?agent=tables")
        # Icons are SVG; no text needs an emoji or symbol font.
        await expect(page.locator("#handsfree svg")).to_have_count(1)
        await expect(page.locator("#record svg")).to_have_count(1)
        await expect(page.locator("#handsfree")).to_have_text("Hands-free")
        assert not SYMBOLS.search(await page.locator("body").inner_text())

        agent = page.locator("#log li.agent")

        async def turn(text: str, count: int) -> None:
            await page.fill("#text", text)
            await page.click("#send")
            await expect(agent).to_have_count(count, timeout=30000)
            await expect(page.locator("#status")).to_have_text("Ready", timeout=30000)

        await turn("a table for six tomorrow at 8 pm", 1)
        question = agent.nth(0)
        await expect(question).to_have_text("Under what name?")
        await expect(question).to_have_attribute("data-outcome", "question")
        await expect(question).to_have_attribute("data-asking", "name")
        await expect(question.locator(".tag")).to_have_count(0)  # a plain question
        await turn("Priya Raman", 2)
        await expect(agent.nth(1)).to_have_text("Indoors or on the patio?")

        await turn("outside please", 3)
        confirm = agent.nth(2)
        await expect(confirm).to_have_class(re.compile(r"\bconfirm\b"))
        await expect(confirm).to_have_attribute("data-outcome", "confirm")
        await expect(confirm.locator(".tag")).to_have_text("Please confirm")
        await expect(confirm.locator(".text")).to_have_text(re.compile(
            r"^A table for 6 on \d{4}-\d\d-\d\d at 20:00 under Priya Raman, seating patio\. "
            r"Shall I book it\?$"))
        await confirm.get_by_role("button", name="Yes").click()
        card = page.locator("#card")
        await expect(card).to_be_visible(timeout=30000)
        await expect(page.locator("#log li.user").last).to_have_text("yes")
        await expect(page.locator("#status")).to_have_text("Ready", timeout=30000)
        await expect(confirm.locator("button")).to_have_count(0)  # answered
        await expect(agent.nth(3)).to_have_attribute("data-outcome", "final")

        schema = next(a for a in await agents_of(page) if a["name"] == "tables")
        fields = ["guests", "date", "time", "name", "seating"]
        await expect(card.locator("h3")).to_have_text("Done")
        await expect(card.locator("dt")).to_have_text(
            [label(schema["result_schema"], f) for f in fields])
        await expect(card.locator("dt").nth(3)).to_have_text("the name for the booking")
        await expect(card.locator("dd")).to_have_text(
            [re.compile("^6$"), re.compile(r"^\d{4}-\d\d-\d\d$"), "20:00", "Priya Raman",
             "patio"])

        await turn("can I talk to a human?", 5)
        handoff = agent.nth(4)
        await expect(handoff).to_have_attribute("data-outcome", "handoff")
        await expect(handoff.locator(".tag")).to_have_text("Handed off to a person")
        await expect(handoff.locator(".text")).to_have_text("Let me pass you to our host.")
        await expect(handoff).not_to_have_class(re.compile(r"\bconfirm\b"))

        shown = await page.evaluate(
            "document.title + '\\n' + document.querySelector('header .heading').innerText"
            " + '\\n' + document.querySelector('main').innerText")
        assert not CAB_WORDS.search(shown), shown
        await expect(page.locator("#log li.error")).to_have_count(0)
        await expect(page.locator("#steps li")).to_have_count(0)  # no action ran
        assert [t["agent"] for t in turns] == ["tables"] * 5, turns
        assert len({t["session_id"] for t in turns}) == 1, turns
        await page.screenshot(path=str(ARTIFACTS / "voice-page-tables.png"), full_page=True)

        # Back to the cab agent: a new session (the last one belongs to tables: 409 otherwise).
        await picker.select_option("cab-booking")
        await expect(page.locator("#agent-name")).to_have_text("cab-booking")
        await expect(page.locator("#log li")).to_have_count(0)
        await expect(card).to_be_hidden()
        await turn("hello", 1)
        await expect(agent.first).to_have_text("Where should the cab pick you up from?")
        await expect(page.locator("#log li.error")).to_have_count(0)
        assert turns[-1]["agent"] == "cab-booking"
        assert turns[-1]["session_id"] != turns[0]["session_id"]
        assert llm.remaining == 0


async def test_result_labels_prefer_the_schema_title(tmp_path):
    """The card's label for a field: its `title`, else its `description`, else its name."""
    chromium()
    wav = tmp_path / "silence.wav"
    await spoken_wav(wav, [1.0])
    app = create_app(make_settings(), Overrides(llm=ScriptedLLM()))
    async with page_on(app, wav) as page:
        await page.wait_for_function("document.body.dataset.agents === '1'")
        labels = await page.evaluate("""() => {
            const of = { result_schema: { properties: {
                a: { title: "Party size", description: "How many people?" },
                b: { description: "the name for the booking" },
                c: { type: "string" } } } };
            showCard({ a: 6, b: "Priya", c: null, some_field: true }, of);
            return [...document.querySelectorAll("#card dt")].map((dt) => dt.textContent)
              .concat([...document.querySelectorAll("#card dd")].map((dd) => dd.textContent));
        }""")
        assert labels == ["Party size", "the name for the booking", "c", "some field",
                          "6", "Priya", "none", "yes"]
