"""Every spoken text in every offered language, through the real espeak-ng: read as that
language (no fallback to English) and synthesised to audible audio; slow mode slower and louder;
the consent notice's version follows its words."""

from __future__ import annotations

import io
import shutil
import time
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import get_args

import numpy as np
import pytest
from pydantic import ValidationError

from device.ui.languages import CANTONESE, LANGUAGES, LanguageCode, default_language, in_language
from device.ui.settings import UiSettings
from device.ui.texts import (
    NOTICE_SHA256,
    PAGE,
    RESULTS,
    all_spoken_texts,
    load_catalogue,
    notice_digest,
    result_screen,
    spoken_result,
)
from device.ui.voice import Voice, phonemes, speech_options, spoken_text, synthesize

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (scripts/install-deps.sh)"
)
OFFERED = get_args(LanguageCode)
MIN_RMS = 300.0  # 16-bit samples; espeak-ng speech at amplitude 100 is ~2,000-4,000


def _levels(wav: bytes) -> tuple[float, float]:
    """(duration s, RMS) of 16-bit mono WAV bytes."""
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), "<i2").astype(np.float64)
    return len(samples) / rate, float(np.sqrt(np.mean(samples**2)))


def test_offered_languages_are_the_ones_with_texts_and_a_voice() -> None:
    assert set(OFFERED) == set(LANGUAGES) == {"cmn", "yue"}
    assert UiSettings().voice_languages == ["cmn", "yue"]
    for bad in (["hak"], ["cmn", "cmn"], []):
        with pytest.raises(ValidationError):
            UiSettings(voice_languages=bad)


@needs_espeak
@pytest.mark.parametrize("language", OFFERED)
def test_every_spoken_text_is_read_in_the_language_and_audible(language: str) -> None:
    texts = all_spoken_texts(load_catalogue(), language)
    assert {"ui.consent", "ui.idle", "result.declined", "helper_step_out"} <= set(texts)
    assert len(texts) >= 80
    voice = LANGUAGES[language].espeak_voice
    unique = sorted(set(texts.values()))
    transcript = phonemes("\n".join(unique), voice, 30.0)
    if "(en)" in transcript:  # name the texts espeak-ng did not read as this language
        english = [t for t in unique if "(en)" in phonemes(t, voice, 10.0)]
        pytest.fail(f"{language}: read as English: {english}")
    settings = UiSettings()
    with ThreadPoolExecutor(max_workers=2) as pool:
        wavs = list(pool.map(lambda t: synthesize(t, settings, language), unique))
    quiet = {}
    for text, wav in zip(unique, wavs, strict=True):
        duration, rms = _levels(wav)
        if duration < 0.3 or rms < MIN_RMS:
            quiet[text] = (round(duration, 2), round(rms))
    assert not quiet, f"{language}: silent or too short: {quiet}"


def test_cantonese_is_colloquial_where_it_differs_and_never_stale() -> None:
    spoken_cmn = set()
    for text in all_spoken_texts(load_catalogue(), "cmn").values():
        spoken_cmn |= {part for part in text.split("。") if part}
    stale = set(CANTONESE) - spoken_cmn
    assert not stale, f"Cantonese for texts the kiosk no longer says: {stale}"
    assert in_language("请将身份证放在读卡区", "yue") == "请将身份证放喺读卡区"
    assert in_language("请将身份证放在读卡区", "cmn") == "请将身份证放在读卡区"
    declined = result_screen("declined", [], load_catalogue())
    assert spoken_result(declined, "yue").startswith("已经记低你唔用人脸识别。")
    assert "唔同意" in spoken_text({"state": "consent", "zh": "x"}, "yue")
    assert spoken_text({"state": "consent", "zh": "x"}, "cmn").startswith(PAGE["consent_title_zh"])
    assert set(RESULTS) >= {"declined"}


def test_region_chooses_the_default_language() -> None:
    assert default_language(("cmn", "yue"), "") == "cmn"
    assert default_language(("cmn", "yue"), "440300") == "yue"  # Shenzhen, Guangdong
    assert default_language(("cmn",), "440300") == "cmn"  # not offered: the first
    assert default_language(("yue", "cmn"), "110105") == "yue"  # Beijing: the first offered


def test_slow_mode_options_are_slower_and_louder() -> None:
    settings = UiSettings(volume=100, speech_rate_wpm=140, slow_speech_rate_wpm=105,
                          slow_volume=170, slow_word_gap_10ms=6)
    assert speech_options(settings, "cmn", False) == [
        "-v", "cmn-latn-pinyin", "-s", "140", "-a", "100"]
    assert speech_options(settings, "yue", True) == [
        "-v", "yue", "-s", "105", "-a", "170", "-g", "6"]
    # slow never speeds up or quietens a kiosk already set slower or louder
    quiet_slow = UiSettings(volume=190, speech_rate_wpm=90)
    assert speech_options(quiet_slow, "yue", True)[2:6] == ["-s", "90", "-a", "190"]


@needs_espeak
def test_slow_mode_audio_is_longer_and_louder() -> None:
    settings = UiSettings()
    text = in_language("请按提示做动作", "yue")
    standard, slow = (_levels(synthesize(text, settings, "yue", pace)) for pace in (False, True))
    assert slow[0] > 1.25 * standard[0]
    assert slow[1] > 1.4 * standard[1]


def test_the_notice_version_follows_its_words() -> None:
    assert notice_digest() == NOTICE_SHA256, (
        "the consent notice changed: give it a new NOTICE_VERSION and NOTICE_SHA256")


@needs_espeak
def test_the_voice_speaks_the_views_language_at_its_pace() -> None:
    played: list[bytes] = []
    settings = UiSettings(voice_repeat_s=0.0)
    voice = Voice(settings, play=played.append, slow=True)  # the kiosk's pace: slow
    voice.start()
    try:
        view = {"state": "guiding", "code": "too_far", "zh": "请靠近一些"}
        voice.on_view({**view, "language": "yue", "slow": False})  # the view's pace wins
        _wait(lambda: len(played) == 1)
        voice.on_view({**view, "language": "cmn"})  # no pace in the view: the kiosk's
        _wait(lambda: len(played) == 2)
    finally:
        voice.stop()
    assert played == [synthesize("请行近啲", settings, "yue", False),
                      synthesize("请靠近一些", settings, "cmn", True)]


def _wait(done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert done()
