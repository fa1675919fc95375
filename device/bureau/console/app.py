"""The console's Starlette application: routes to the views, static CSS, error pages."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from device.bureau.console import web
from device.bureau.console.auth import AuthError
from device.bureau.console.views import Console


def build_app(console: Console) -> Starlette:
    async def auth_error(request: Request, exc: Exception) -> Response:
        return web.refused(console.render, request, None, str(exc))

    routes = [
        Route("/login", console.login_page, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/", console.fleet),
        Route("/kiosk/{device}", console.kiosk),
        Route("/kiosk/{device}/command", console.command, methods=["POST"]),
        Route("/results", console.results),
        Route("/results.csv", console.export_csv),
        Route("/dead-letters", console.dead_letters),
        Route("/audit", console.audit),
        Mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))),
              name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={AuthError: auth_error})
