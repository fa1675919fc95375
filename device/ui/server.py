"""The kiosk's local web server: the page, its view stream (SSE), the live preview, worker input.

`ScreenServer` is the component the daemon wires in: `publish(view)` and `set_preview(frame)` never
block the caller; worker input arrives on a request thread and goes to `on_worker_input` (the
daemon posts it to the core loop's bus). Everything listens on the loopback interface only and
every asset ships in the package (no CDN).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from device.camera.base import Frame
from device.events import WorkerInput
from device.ui.handler import STATIC_TYPES, ScreenHttpServer
from device.ui.hub import ViewHub
from device.ui.preview import PreviewStore
from device.ui.settings import UiSettings
from device.ui.texts import PAGE, Catalogue, load_catalogue
from device.ui.views import ViewError, prepare
from device.ui.voice import Voice

log = logging.getLogger(__name__)

WorkerCallback = Callable[[WorkerInput], object]
CONFIG_MARK = "<!--KIOSK_CONFIG-->"


class ScreenServer:
    """The kiosk screen and voice as one component: start(), stop(), status()."""

    def __init__(
        self,
        settings: UiSettings,
        on_worker_input: WorkerCallback | None = None,
        catalogue: Catalogue | None = None,
        voice: Voice | None = None,
    ) -> None:
        self.settings = settings
        self.on_worker_input = on_worker_input
        self.hub = ViewHub(settings.client_queue_size, settings.max_clients)
        self.preview = PreviewStore(settings.preview_max_width_px, settings.preview_jpeg_quality)
        self.voice = voice if voice is not None else Voice(settings)
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
            }
        return {
            "listening": self._server is not None,
            "url": self.url if self._server is not None else None,
            **self.hub.status(),
            **self.preview.status(),
            **counters,
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
        self.hub.publish(prepared)
        self.voice.on_view(prepared)
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
