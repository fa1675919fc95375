"""Spoken prompts: espeak-ng in the view's language, once per change of state, message or
language, never blocking; slower and louder at the slow pace.

`on_view(view)` only decides whether the view says something new and puts the sentence in a small
bounded queue (the oldest waiting sentence gives way: it is stale by then). A worker thread
synthesises it with espeak-ng to WAV bytes in memory and plays them through aplay or paplay.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from device.queues import put_newest
from device.ui.languages import LANGUAGES, in_language
from device.ui.settings import UiSettings
from device.ui.texts import spoken_notice, spoken_result

log = logging.getLogger(__name__)

Player = Callable[[bytes], None]
PLAYERS = {"aplay": ["aplay", "-q", "-"], "paplay": ["paplay"]}
Utterance = tuple[str, str, bool]  # (words, language code, slow)
SAMPLE_ZH = "请将身份证放在读卡区"  # read at start-up: a voice that reads it as English is refused


class SpeechError(RuntimeError):
    """espeak-ng or the player failed or timed out."""


def speech_options(settings: UiSettings, language: str, slow: bool) -> list[str]:
    """espeak-ng's voice, rate (words a minute), amplitude and word gap for one utterance."""
    voice = LANGUAGES[language].espeak_voice
    if not slow:
        return ["-v", voice, "-s", str(settings.speech_rate_wpm), "-a", str(settings.volume)]
    louder = max(settings.volume, settings.slow_volume)
    slower = min(settings.speech_rate_wpm, settings.slow_speech_rate_wpm)
    return ["-v", voice, "-s", str(slower), "-a", str(louder),
            "-g", str(settings.slow_word_gap_10ms)]


def synthesize(text: str, settings: UiSettings, language: str = "cmn",
               slow: bool = False) -> bytes:
    """Speech for `text` as a WAV file in memory (espeak-ng --stdout)."""
    command = ["espeak-ng", *speech_options(settings, language, slow), "--stdout", text]
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=settings.speech_timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"espeak-ng failed: {exc}") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        raise SpeechError(f"espeak-ng exited {done.returncode}: {done.stderr[:200]!r}")
    return done.stdout


def phonemes(text: str, espeak_voice: str, timeout_s: float) -> str:
    """espeak-ng's phoneme transcription of `text` with a voice (-q -x): a `(en)` in it means
    the voice fell back to English for some of the words."""
    command = ["espeak-ng", "-v", espeak_voice, "-q", "-x", text]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"espeak-ng failed: {exc}") from exc
    if done.returncode != 0:
        raise SpeechError(f"espeak-ng exited {done.returncode}: {done.stderr[:200]!r}")
    return done.stdout


def reads_chinese(espeak_voice: str, timeout_s: float) -> bool:
    """Whether espeak-ng has the voice and reads Chinese characters with it (a missing voice
    or dictionary falls back to English without an error)."""
    try:
        transcript = phonemes(SAMPLE_ZH, espeak_voice, timeout_s)
    except SpeechError:
        return False
    return bool(transcript.strip()) and "(en)" not in transcript


def spoken_text(view: Mapping[str, Any], language: str = "cmn") -> str:
    """What a prepared view says aloud in `language` (empty for nothing)."""
    screen = view.get("screen")
    if view.get("state") == "decided" and isinstance(screen, Mapping):
        return spoken_result(screen, language)
    if view.get("state") == "consent":
        return spoken_notice(language)
    return in_language(str(view.get("zh") or ""), language)


class Voice:
    """Speaks each new prompt once; start()/stop()/status() like every component."""

    def __init__(self, settings: UiSettings, play: Player | None = None,
                 slow: bool = False) -> None:
        self.settings = settings
        self._play = play
        self.slow = slow  # the kiosk's pace, for views that do not say their own
        self.languages = list(settings.voice_languages)
        self._queue: queue.Queue[Utterance | None] = queue.Queue(
            maxsize=settings.voice_queue_size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_key: tuple[str, str, str] | None = None
        self._last_said: dict[str, float] = {}
        self.enabled = settings.voice and settings.volume > 0
        self.player_name = "injected" if play is not None else "none"
        self.error = ""
        self.spoken = 0
        self.skipped = 0
        self.dropped = 0
        self.failures = 0

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        timeout_s = self.settings.speech_timeout_s
        missing = [code for code in self.languages
                   if not reads_chinese(LANGUAGES[code].espeak_voice, timeout_s)]
        if missing:
            log.error("ui: espeak-ng is missing or cannot read Chinese in %s", ",".join(missing))
            self.error = "no espeak-ng voice for " + ",".join(missing)
            self.languages = [code for code in self.languages if code not in missing]
        if not self.languages:
            self.enabled = False
            return
        if self._play is None:
            self._play = self._find_player()
        if self._play is None:
            log.warning("ui: no audio player (aplay, paplay) found; the voice is off")
            self.enabled = False
            self.error = "no audio player"
            return
        self._thread = threading.Thread(target=self._run, name="kiosk-voice", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._offer(None)
        thread.join(timeout=self.settings.speech_timeout_s)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "player": self.player_name,
                "error": self.error,
                "spoken": self.spoken,
                "skipped": self.skipped,
                "dropped": self.dropped,
                "failures": self.failures,
                "queued": self._queue.qsize(),
                "languages": list(self.languages),
            }

    def on_view(self, view: Mapping[str, Any]) -> None:
        """Queue the view's sentence if the state, message or language changed; returns at
        once. The language is the view's `language`, the pace its `slow` (else the kiosk's)."""
        if not self.enabled or self._thread is None:
            return
        language = str(view.get("language") or self.languages[0])
        if language not in self.languages:
            language = self.languages[0]
        slow = view.get("slow")
        slow = slow if isinstance(slow, bool) else self.slow
        text = spoken_text(view, language)
        key = (str(view.get("state")), str(view.get("code") or text), language)
        now = time.monotonic()
        with self._lock:
            if key == self._last_key or not text:
                return
            self._last_key = key
            said_at = self._last_said.get(text)
            if said_at is not None and now - said_at < self.settings.voice_repeat_s:
                self.skipped += 1  # a prompt flickering back and forth is said once
                return
            self._last_said = {t: s for t, s in self._last_said.items() if now - s < 60.0}
            self._last_said[text] = now
        self._offer((text, language, slow))

    def _offer(self, item: Utterance | None) -> None:
        dropped = put_newest(self._queue, item)
        if dropped:
            with self._lock:
                self.dropped += dropped

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            text, language, slow = item
            try:
                wav = synthesize(text, self.settings, language, slow)
                if self._play is not None:
                    self._play(wav)
                with self._lock:
                    self.spoken += 1
            except SpeechError as exc:  # no sound card, busy device: say so now and then
                with self._lock:
                    self.failures += 1
                    failures = self.failures
                if failures == 1 or failures % 50 == 0:
                    log.warning("ui: speaking a prompt failed (%d so far): %s", failures, exc)
            except Exception:  # a failed prompt must not stop the next one
                log.exception("ui: speaking a prompt failed")
                with self._lock:
                    self.failures += 1

    def _find_player(self) -> Player | None:
        names = list(PLAYERS) if self.settings.player == "auto" else [self.settings.player]
        for name in names:
            if name != "none" and shutil.which(PLAYERS[name][0]):
                self.player_name = name
                command = list(PLAYERS[name])
                if name == "aplay" and self.settings.audio_device:
                    command[1:1] = ["-D", self.settings.audio_device]
                return self._command_player(command)
        return None

    def _command_player(self, command: list[str]) -> Player:
        timeout_s = self.settings.speech_timeout_s

        def play(wav: bytes) -> None:
            try:
                done = subprocess.run(
                    command, input=wav, capture_output=True, timeout=timeout_s, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SpeechError(f"{command[0]} failed: {exc}") from exc
            if done.returncode != 0:
                raise SpeechError(f"{command[0]} exited {done.returncode}: {done.stderr[:200]!r}")

        return play
