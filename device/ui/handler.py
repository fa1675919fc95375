"""The kiosk page's requests: `/`, `/static/*`, `/events` (SSE), `/preview.jpg`, and the posts
`/api/worker`, `/api/consent` and `/api/language` (same Host and Origin rules for each)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from device.events import ConsentAnswered, WorkerInput
from device.ui.consent import parse_consent, parse_language
from device.ui.hub import Close, ViewHub
from device.ui.preview import PreviewStore
from device.ui.settings import UiSettings
from device.ui.worker import MAX_BODY_BYTES, WorkerFormError, parse_worker_form

log = logging.getLogger(__name__)

STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "kiosk.css": "text/css; charset=utf-8",
    "kiosk.js": "text/javascript; charset=utf-8",
    "worker.js": "text/javascript; charset=utf-8",
    "consent.js": "text/javascript; charset=utf-8",
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; frame-ancestors 'none'",
}
SSE_RETRY_MS = 1000


class ScreenBackend(Protocol):
    """What the request handler serves from (device.ui.server.ScreenServer)."""

    settings: UiSettings
    hub: ViewHub
    preview: PreviewStore

    def page(self) -> bytes: ...

    def static(self, name: str) -> bytes | None: ...

    def status(self) -> dict[str, Any]: ...

    def allowed_hosts(self) -> frozenset[str]: ...

    def accept_worker_input(self, event: WorkerInput) -> bool: ...

    def count_rejected_worker_input(self) -> None: ...

    def accept_consent(self, event: ConsentAnswered) -> str | None: ...

    def count_refused_consent(self) -> None: ...

    def choose_language(self, language: str) -> bool: ...


class ScreenRequestHandler(BaseHTTPRequestHandler):
    server_version = "faceterm-kiosk"
    sys_version = ""
    timeout = 10.0  # socket timeout: a stalled client is dropped, never waited on for ever

    @property
    def kiosk(self) -> ScreenBackend:
        return cast(ScreenHttpServer, self.server).kiosk

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("ui http: " + format, *args)

    # routing -----------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._host_allowed():
            return
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self._send(200, STATIC_TYPES["index.html"], self.kiosk.page())
        elif path == "/events":
            self._events()
        elif path == "/preview.jpg":
            self._preview()
        elif path.startswith("/static/") and path[len("/static/"):] in STATIC_TYPES:
            name = path[len("/static/"):]
            self._send(200, STATIC_TYPES[name], self.kiosk.static(name) or b"")
        elif path == "/status.json":
            self._json(200, self.kiosk.status())
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if not self._host_allowed():
            return
        path = urlsplit(self.path).path
        if path == "/api/worker":
            self._worker()
        elif path == "/api/consent":
            self._consent()
        elif path == "/api/language":
            self._language()
        else:
            self._json(404, {"error": "not_found"})

    # handlers ----------------------------------------------------------------------------
    def _events(self) -> None:
        hub = self.kiosk.hub
        client = hub.attach()
        if client is None:
            self._json(503, {"error": "too_many_clients"})
            return
        heartbeat_s = self.kiosk.settings.heartbeat_s
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self._common_headers()
            self.end_headers()
            self._write(f"retry: {SSE_RETRY_MS}\n\n".encode())
            while True:
                item = client.next(timeout_s=heartbeat_s)
                if isinstance(item, Close):
                    return
                if item is None:
                    self._write(b": heartbeat\nevent: ping\ndata: {}\n\n")
                    continue
                sequence, view = item
                data = json.dumps(view, ensure_ascii=False, separators=(",", ":"))
                self._write(f"id: {sequence}\nevent: view\ndata: {data}\n\n".encode())
        except OSError as exc:  # the page went away or stalled: it will reconnect by itself
            log.debug("ui: event stream ended: %s", exc)
        finally:
            hub.detach(client)
            self.close_connection = True

    def _preview(self) -> None:
        data = self.kiosk.preview.jpeg()
        if data is None:
            self.send_response(204)
            self._common_headers()
            self.end_headers()
            return
        self._send(200, "image/jpeg", data)

    def _body(self, on_refused: Callable[[], None] | None = None) -> bytes | None:
        """The posted JSON body, or None with the refusal already answered."""
        origin = self.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc not in self.kiosk.allowed_hosts():
            if on_refused is not None:
                on_refused()
            self._json(403, {"error": "bad_origin"})
            return None
        if self.headers.get_content_type() != "application/json":
            self._json(415, {"error": "not_json"})
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._json(411, {"error": "length_required"})
            return None
        if not 0 < length <= MAX_BODY_BYTES:
            self._json(413, {"error": "too_large"})
            return None
        return self.rfile.read(length)

    def _consent(self) -> None:
        body = self._body(self.kiosk.count_refused_consent)
        if body is None:
            return
        try:
            event = parse_consent(body)
        except WorkerFormError as exc:
            self.kiosk.count_refused_consent()
            self._json(400, {"error": exc.code})
            return
        refusal = self.kiosk.accept_consent(event)
        if refusal is not None:
            self._json(409 if refusal != "not_accepted" else 503, {"error": refusal})
            return
        self._json(202, {"ok": True, "accepted": event.accepted})

    def _language(self) -> None:
        body = self._body()
        if body is None:
            return
        try:
            language = parse_language(body)
        except WorkerFormError as exc:
            self._json(400, {"error": exc.code})
            return
        if not self.kiosk.choose_language(language):
            self._json(400, {"error": "bad_language"})
            return
        self._json(200, {"ok": True, "language": language})

    def _worker(self) -> None:
        body = self._body(self.kiosk.count_rejected_worker_input)
        if body is None:
            return
        try:
            event = parse_worker_form(body)
        except WorkerFormError as exc:
            self.kiosk.count_rejected_worker_input()
            self._json(400, {"error": exc.code})
            return
        if not self.kiosk.accept_worker_input(event):
            self._json(503, {"error": "not_accepted"})
            return
        self._json(202, {"ok": True, "consent": event.consent})

    # plumbing ----------------------------------------------------------------------------
    def _host_allowed(self) -> bool:
        """Refuse requests whose Host is not ours (a defence against DNS rebinding)."""
        if self.headers.get("Host", "") in self.kiosk.allowed_hosts():
            return True
        self._json(421, {"error": "bad_host"})
        return False

    def _common_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._common_headers()
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(code, "application/json; charset=utf-8", body)

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


class ScreenHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], kiosk: ScreenBackend) -> None:
        self.kiosk = kiosk
        super().__init__(address, ScreenRequestHandler)
