"""Spoken prompts: espeak-ng Mandarin, once per change of state or message, never blocking.

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
from device.ui.settings import UiSettings
from device.ui.texts import spoken_result

log = logging.getLogger(__name__)

Player = Callable[[bytes], None]
PLAYERS = {"aplay": ["aplay", "-q", "-"], "paplay": ["paplay"]}


class SpeechError(RuntimeError):
    """espeak-ng or the player failed or timed out."""


def synthesize(text: str, settings: UiSettings) -> bytes:
    """Mandarin speech for `text` as a WAV file in memory (espeak-ng --stdout)."""
    command = [
        "espeak-ng", "-v", settings.voice_name, "-s", str(settings.speech_rate_wpm),
        "-a", str(settings.volume), "--stdout", text,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=settings.speech_timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"espeak-ng failed: {exc}") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        raise SpeechError(f"espeak-ng exited {done.returncode}: {done.stderr[:200]!r}")
    return done.stdout


def voice_available(name: str, timeout_s: float) -> bool:
    """Whether espeak-ng knows the voice (it silently falls back to English otherwise)."""
    try:
        done = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    for line in done.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and name in (fields[1], fields[3], fields[4].rsplit("/", 1)[-1]):
            return True
    return False


def spoken_text(view: Mapping[str, Any]) -> str:
    """What a prepared view says aloud (empty for nothing)."""
    screen = view.get("screen")
    if view.get("state") == "decided" and isinstance(screen, Mapping):
        return spoken_result(screen)
    return str(view.get("zh") or "")


class Voice:
    """Speaks each new prompt once; start()/stop()/status() like every component."""

    def __init__(self, settings: UiSettings, play: Player | None = None) -> None:
        self.settings = settings
        self._play = play
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=settings.voice_queue_size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_key: tuple[str, str] | None = None
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
        if not voice_available(self.settings.voice_name, self.settings.speech_timeout_s):
            log.error("ui: espeak-ng is missing or has no voice %r; the voice is off",
                      self.settings.voice_name)
            self.enabled = False
            self.error = f"no espeak-ng voice {self.settings.voice_name}"
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
            }

    def on_view(self, view: Mapping[str, Any]) -> None:
        """Queue the view's sentence if the state or message changed; returns at once."""
        if not self.enabled or self._thread is None:
            return
        text = spoken_text(view)
        key = (str(view.get("state")), str(view.get("code") or text))
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
        self._offer(text)

    def _offer(self, item: str | None) -> None:
        dropped = put_newest(self._queue, item)
        if dropped:
            with self._lock:
                self.dropped += dropped

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            try:
                wav = synthesize(text, self.settings)
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
