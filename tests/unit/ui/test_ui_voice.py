"""Voice prompts: real espeak-ng audio, debounced and never blocking (every text in every
language: tests/unit/ui/test_ui_languages.py)."""

from __future__ import annotations

import io
import shutil
import threading
import time
import wave

import numpy as np
import pytest

from device.ui.languages import LANGUAGES
from device.ui.settings import UiSettings
from device.ui.texts import result_screen
from device.ui.voice import SpeechError, Voice, reads_chinese, synthesize

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (scripts/install-deps.sh)"
)
def _levels(wav: bytes) -> tuple[float, float, float]:
    """(duration s, RMS, peak) of 16-bit mono WAV bytes."""
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), "<i2").astype(np.float64)
    return len(samples) / rate, float(np.sqrt(np.mean(samples**2))), float(np.abs(samples).max())


@needs_espeak
def test_volume_setting_scales_the_audio_and_a_voice_that_reads_english_is_refused() -> None:
    _d, soft, _p = _levels(synthesize("请眨眨眼", UiSettings(volume=40)))
    _d, loud, _p = _levels(synthesize("请眨眨眼", UiSettings(volume=160)))
    assert loud > 2.5 * soft
    # espeak-ng 1.51's plain `cmn` reads its own pinyin as English ("king three"), `hak` says
    # "Chinese letter" for every character, and an unknown voice falls back to English: all
    # three are refused; the voices device/ui/languages.py uses read the characters.
    for voice in ("cmn", "hak", "no-such-voice"):
        assert not reads_chinese(voice, 10.0), voice
    assert all(reads_chinese(language.espeak_voice, 10.0) for language in LANGUAGES.values())


class Recorder:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.played: list[bytes] = []
        self.delay_s = delay_s
        self.done = threading.Event()

    def __call__(self, wav: bytes) -> None:
        time.sleep(self.delay_s)
        self.played.append(wav)
        self.done.set()


def _wait_played(recorder: Recorder, count: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(recorder.played) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(recorder.played) >= count, f"{len(recorder.played)} played, wanted {count}"


@needs_espeak
def test_each_prompt_is_said_once_per_change() -> None:
    recorder = Recorder()
    voice = Voice(UiSettings(voice_repeat_s=5.0), play=recorder)
    voice.start()
    try:
        blink = {"state": "challenge", "code": "liveness_blink", "zh": "请眨眨眼"}
        for countdown in (3, 2, 1):
            voice.on_view({**blink, "countdown_s": countdown})
        _wait_played(recorder, 1)
        voice.on_view({"state": "guiding", "code": "too_far", "zh": "请靠近一些"})
        _wait_played(recorder, 2)
        voice.on_view({**blink, "countdown_s": 3})  # flickering back within voice_repeat_s
        screen = result_screen("pass", [], {})
        voice.on_view({"state": "decided", "code": "", "zh": "", "screen": screen})
        _wait_played(recorder, 3)
        time.sleep(0.3)
        assert len(recorder.played) == 3
        status = voice.status()
        assert status["spoken"] == 3 and status["skipped"] == 1 and status["failures"] == 0
    finally:
        voice.stop()


@needs_espeak
def test_on_view_never_blocks_and_keeps_only_the_newest_prompts() -> None:
    recorder = Recorder(delay_s=0.5)
    voice = Voice(UiSettings(voice_queue_size=1, voice_repeat_s=0.0), play=recorder)
    voice.start()
    try:
        started = time.monotonic()
        for n in range(20):
            voice.on_view({"state": "guiding", "code": f"c{n}", "zh": f"提示{n}"})
        assert time.monotonic() - started < 0.1
        assert voice.status()["dropped"] >= 15
    finally:
        voice.stop()


def test_voice_off_or_silent_volume_says_nothing() -> None:
    for settings in (UiSettings(voice=False), UiSettings(volume=0)):
        recorder = Recorder()
        voice = Voice(settings, play=recorder)
        voice.start()
        voice.on_view({"state": "guiding", "code": "x", "zh": "请靠近一些"})
        voice.stop()
        assert recorder.played == [] and voice.status()["enabled"] is False


@needs_espeak
@pytest.mark.skipif(shutil.which("aplay") is None, reason="aplay (alsa-utils) is not installed")
def test_real_aplay_plays_to_the_null_device() -> None:
    voice = Voice(UiSettings(player="aplay", audio_device="null"))
    voice.start()
    try:
        voice.on_view({"state": "guiding", "code": "too_far", "zh": "请靠近一些"})
        deadline = time.monotonic() + 10
        while voice.status()["spoken"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert voice.status()["player"] == "aplay"
        assert (voice.status()["spoken"], voice.status()["failures"]) == (1, 0)
    finally:
        voice.stop()


def test_no_player_turns_the_voice_off() -> None:
    voice = Voice(UiSettings(player="none"))
    voice.start()
    assert voice.status()["enabled"] is False
    voice.on_view({"state": "guiding", "code": "x", "zh": "请靠近一些"})
    voice.stop()


@needs_espeak
def test_a_failing_player_is_counted_and_the_next_prompt_still_plays() -> None:
    calls: list[int] = []

    def flaky(wav: bytes) -> None:
        calls.append(len(wav))
        if len(calls) == 1:
            raise SpeechError("device busy")

    voice = Voice(UiSettings(), play=flaky)
    voice.start()
    try:
        voice.on_view({"state": "guiding", "code": "a", "zh": "请靠近一些"})
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.02)
        voice.on_view({"state": "guiding", "code": "b", "zh": "请稍微后退"})
        while len(calls) < 2 and time.monotonic() < deadline + 5:
            time.sleep(0.02)
        assert len(calls) == 2
        assert voice.status()["failures"] == 1
    finally:
        voice.stop()
