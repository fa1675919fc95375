"""Where the reader's serial port comes from, chosen by `cardreader.type` (a small registry).

Each backend gives the link a port path; the link then talks to it through real pyserial, so
the simulator needs no branch in the link code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from device.cardreader.settings import CardReaderSettings
from device.cardreader.sim import SimulatedReader
from device.cardreader.sim_script import demo_script_path, load_script


class PortBackend(Protocol):
    def start(self) -> str:
        """Make the port available and return its path."""
        ...

    def stop(self) -> None: ...


class SerialBackend:
    """A real reader on a serial device (e.g. the /dev/idcard udev symlink)."""

    def __init__(self, settings: CardReaderSettings) -> None:
        self._port = settings.port

    def start(self) -> str:
        return self._port

    def stop(self) -> None:
        return None


class SimBackend:
    """The simulator on a pseudo-terminal, running settings.sim_script (or the demo script)."""

    def __init__(self, settings: CardReaderSettings) -> None:
        self._script_path = Path(settings.sim_script) if settings.sim_script else None
        self._sim: SimulatedReader | None = None

    def start(self) -> str:
        script = load_script(self._script_path or demo_script_path())
        self._sim = SimulatedReader(script)
        return self._sim.start()

    def stop(self) -> None:
        if self._sim is not None:
            self._sim.stop()
            self._sim = None


def make_backend(settings: CardReaderSettings) -> PortBackend:
    """The backend registered for settings.type."""
    factories: dict[str, type[SerialBackend] | type[SimBackend]] = {
        "serial": SerialBackend,
        "sim": SimBackend,
    }
    return factories[settings.type](settings)
