"""The kiosk's local web server: the page, its view stream (SSE), the live preview, worker input.

`ScreenServer` is the component the daemon wires in: `publish(view)` and `set_preview(frame)` never
block the caller; worker input and consent answers arrive on a request thread and go to
`on_worker_input` / `on_consent` (the daemon posts them to the core loop's bus). The voice's
language is the server's own state: the language button sets it for the session in front, and
the first idle screen after a session sets it back to the kiosk's default. Everything listens
on the loopback interface only and every asset ships in the package (no CDN).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from device.camera.base import Frame
from device.events import ConsentAnswered, WorkerInput
from device.ui.handler import STATIC_TYPES, ScreenHttpServer
from device.ui.hub import ViewHub
from device.ui.languages import LANGUAGES, default_language
from device.ui.preview import PreviewStore
from device.ui.settings import UiSettings
from device.ui.texts import NOTICE_VERSION, PAGE, Catalogue, load_catalogue
from device.ui.views import ViewError, prepare
from device.ui.voice import Voice

log = logging.getLogger(__name__)

WorkerCallback = Callable[[WorkerInput], object]
ConsentCallback = Callable[[ConsentAnswered], object]
CONFIG_MARK = "<!--KIOSK_CONFIG-->"


class ScreenServer:
    """The kiosk screen and voice as one component: start(), stop(), status()."""

    def __init__(
        self,
        settings: UiSettings,
        on_worker_input: WorkerCallback | None = None,
        catalogue: Catalogue | None = None,
        voice: Voice | None = None,
        on_consent: ConsentCallback | None = None,
        slow: bool = False,
    ) -> None:
        self.settings = settings
        self.on_worker_input = on_worker_input
        self.on_consent = on_consent
        self.hub = ViewHub(settings.client_queue_size, settings.max_clients)
        self.preview = PreviewStore(settings.preview_max_width_px, settings.preview_jpeg_quality)
        self.voice = voice if voice is not None else Voice(settings, slow=slow)
        self.default_language = default_language(tuple(settings.voice_languages), settings.region)
        self.language = self.default_language
        self._view_lock = threading.Lock()  # publish and a language change, one at a time
        self._catalogue: Catalogue | None = catalogue
        self._static: dict[str, bytes] = {}
        self._page = b""
        self._server: ScreenHttpServer | None = None
        self._port = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.views_invalid = 0
        self.worker_inputs = 0
        self.worker_rejected = 0
        self.consent_answers = 0
        self.consent_refused = 0

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._server is not None:
            return
        if self._catalogue is None:
            self._catalogue = load_catalogue()
        self._static = _load_static()
        self._page = self._render_page()
        self.hub.reopen()
        server = ScreenHttpServer((self.settings.host, self.settings.port), self)
        self._port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="kiosk-http",
            daemon=True,
        )
        self._thread.start()
        self.voice.start()
        log.info("kiosk page at %s", self.url)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        self.voice.stop()
        self.hub.close_all()
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5.0)

    def status(self) -> dict[str, Any]:
        with self._lock:
            counters = {
                "views_invalid": self.views_invalid,
                "worker_inputs": self.worker_inputs,
                "worker_rejected": self.worker_rejected,
                "consent_answers": self.consent_answers,
                "consent_refused": self.consent_refused,
            }
        return {
            "listening": self._server is not None,
            "url": self.url if self._server is not None else None,
            **self.hub.status(),
            **self.preview.status(),
            **counters,
            "language": self.language,
            "voice": self.voice.status(),
        }

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the kiosk server is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self.settings.host
        return f"http://{'[::1]' if host == '::1' else host}:{self.port}/"

    # inputs from the core loop ---------------------------------------------------------------
    def publish(self, view: Mapping[str, Any]) -> bool:
        """Show a view on the page and speak it; False (logged, counted) if it breaks contract."""
        try:
            prepared = prepare(view, self._catalogue or {})
        except ViewError as exc:
            with self._lock:
                self.views_invalid += 1
            log.error("ui: view refused: %s", exc)
            return False
        if prepared["state"] in ("idle", "decided"):
            self.preview.set(None)  # no face is kept on screen or in memory after a session
        with self._view_lock:
            previous = self.hub.latest()
            if prepared["state"] == "idle" and (previous or {}).get("state") != "idle":
                self.language = self.default_language  # the next person starts afresh
            prepared["language"] = self.language
            self.hub.publish(prepared)
            self.voice.on_view(prepared)
        return True

    def choose_language(self, language: str) -> bool:
        """The language button: speak `language` from now on in this session (and say the
        current screen again in it); False for a language this kiosk does not offer."""
        if language not in self.settings.voice_languages:
            return False
        with self._view_lock:
            self.language = language
            latest = self.hub.latest()
            if latest is not None:
                again = {**latest, "language": language}
                self.hub.publish(again)
                self.voice.on_view(again)
        return True

    def set_preview(self, frame: Frame | None) -> None:
        """Hold this frame for the page's preview (memory only); None clears it."""
        self.preview.set(frame)

    # used by the request handler -------------------------------------------------------------
    def static(self, name: str) -> bytes | None:
        return self._static.get(name)

    def page(self) -> bytes:
        return self._page

    def accept_worker_input(self, event: WorkerInput) -> bool:
        """Hand worker input to the daemon; False when there is no taker or it failed."""
        callback = self.on_worker_input
        if callback is None or not self.settings.worker_mode:
            with self._lock:
                self.worker_rejected += 1
            return False
        try:
            callback(event)
        except Exception:  # the daemon's queue may be full or stopping: report, do not crash
            log.exception("ui: worker input could not be handed over")
            with self._lock:
                self.worker_rejected += 1
            return False
        with self._lock:
            self.worker_inputs += 1
        return True

    def accept_consent(self, event: ConsentAnswered) -> str | None:
        """Hand a consent answer to the daemon; a refusal code when it cannot be taken: no
        consent screen is shown, the page showed another notice, or nobody takes it."""
        refusal = None
        latest = self.hub.latest()
        if self.on_consent is None or self.settings.worker_mode:
            refusal = "not_accepted"
        elif latest is None or latest.get("state") != "consent":
            refusal = "not_asked"
        elif event.notice_version != NOTICE_VERSION:
            refusal = "stale_notice"
        else:
            try:
                self.on_consent(event)
            except Exception:  # the daemon's queue may be full or stopping: report, do not crash
                log.exception("ui: a consent answer could not be handed over")
                refusal = "not_accepted"
        with self._lock:
            if refusal is None:
                self.consent_answers += 1
            else:
                self.consent_refused += 1
        return refusal

    def count_refused_consent(self) -> None:
        with self._lock:
            self.consent_refused += 1

    def count_rejected_worker_input(self) -> None:
        with self._lock:
            self.worker_rejected += 1

    def allowed_hosts(self) -> frozenset[str]:
        port = self._port  # kept after stop(): requests still in flight are answered, not crashed
        names = {self.settings.host, "127.0.0.1", "localhost", "[::1]"}
        return frozenset(f"{name}:{port}" for name in names if name != "::1")

    def _render_page(self) -> bytes:
        config = {
            "worker_mode": self.settings.worker_mode,
            "show_english": self.settings.show_english,
            "heartbeat_s": self.settings.heartbeat_s,
            "preview_interval_ms": round(1000 / self.settings.preview_fps),
            "texts": PAGE,
            "notice_version": NOTICE_VERSION,
            "languages": [{"code": code, "button_zh": LANGUAGES[code].button_zh}
                          for code in self.settings.voice_languages],
        }
        blob = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        tag = f'<script id="kiosk-config" type="application/json">{blob}</script>'
        html = self._static["index.html"].decode("utf-8")
        if CONFIG_MARK not in html:
            raise RuntimeError("index.html lacks the configuration mark")
        return html.replace(CONFIG_MARK, tag).encode("utf-8")


def _load_static() -> dict[str, bytes]:
    folder = resources.files("device.ui").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in STATIC_TYPES}
