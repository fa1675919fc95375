"""`make run`: a simulated kiosk verifies a queue of visitors end to end, and the bureau's
receiver verifies each signed result.

A local mosquitto (TLS, client certificates, ACLs), the kiosk daemon (the real composition:
session, liveness, models, signed outbox, MQTT, fleet channel) talking to the ID-card reader
simulator over a pseudo-terminal and to a synthetic visitor camera, and the bureau receiver.
All state lives in demo-state/ and is reused by the next run.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.bureau.receiver import Receiver
from device.bureau.registry import DeviceRegistry
from device.bureau.store import ResultStore
from device.cardreader.sim import SimulatedReader
from device.cardreader.sim_script import SimCard, SimScript
from device.compose import Kiosk
from device.config import load
from device.demo.broker import FLEET_ACL, Mosquitto
from device.demo.faces import fetch_photos, read_rgb
from device.demo.site import Site
from device.demo.visitor import VisitorCamera, face_source
from device.events import ConsentAnswered
from device.liveness.harness import Scene
from device.liveness.scenes import Person, PhotoAttack
from device.logsetup import setup_logging
from device.match.enrol import enrol_images
from device.publish import identity
from device.publish.mqtt import LinkConfig
from device.redact import mask_id
from device.session.handler import open_templates
from device.ui.texts import NOTICE_VERSION
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder

log = logging.getLogger("faceterm.demo")
DEVICE = "kiosk-demo-01"
REPO = Path(__file__).resolve().parents[2]


def card(name: str, sex: str, birth: str, number: str) -> SimCard:
    return SimCard(name=name, sex_code=sex, birth_date=birth, id_number=number,
                   address="北京市东城区示例胡同1号", authority="北京市公安局东城分局",
                   valid_from="20180301", valid_until="长期")


# Fictional people (valid GB 11643 check digits); photos from registry packages (faces.py).
LI = card("李建国", "1", "19580601", "110101195806010153")
WANG = card("王秀英", "2", "19520314", "110101195203140127")
ZHAO = card("赵玉兰", "2", "19560708", "110105195607080242")


@dataclass(frozen=True)
class Visitor:
    who: str
    card: SimCard
    scene: str  # person:<photo> | photo:<photo> | nobody
    expected: str
    leaves_after_s: float | None = None
    tries_again: bool = False  # follows the screen's "please try again" after a failed attempt


VISITORS = (
    Visitor("genuine person (李建国, live)", LI, "person:obama.jpg", "pass", tries_again=True),
    Visitor("impostor with 李建国's card", LI, "person:biden.jpg", "fail"),
    Visitor("photo of 王秀英 held up", WANG, "photo:astronaut.png", "fail"),
    Visitor("gives up and takes the card", ZHAO, "nobody", "cancelled", leaves_after_s=4.0),
)
ENROLMENT = {LI.id_number: ("obama2.jpg", "obama3.jpg"), WANG.id_number: ("astronaut.png",),
             ZHAO.id_number: ("biden.jpg",)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="faceterm-demo", description=__doc__)
    parser.add_argument("--state", type=Path, default=REPO / "demo-state")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(logging.DEBUG if args.verbose else logging.WARNING)
    for name in ("faceterm.demo", "device.cardreader.reader", "device.core", "device.compose"):
        logging.getLogger(name).setLevel(logging.INFO)  # card reads (masked), frames, results
    started = time.monotonic()
    rows = Demo(args.state).run()
    print_table(rows)
    ok = all(row["decision"] == row["expected"] and row["verified"] for row in rows)
    print(f"\n{len(rows)} visitors, {'all as expected' if ok else 'NOT as expected'}, "
          f"{time.monotonic() - started:.0f} s")
    return 0 if ok else 1


class Demo:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.site = Site.create(state / "site")

    def run(self) -> list[dict[str, Any]]:
        photos = fetch_photos(self.state / "faces", REPO / ".cache" / "demo")
        broker = Mosquitto(self.site.ca_cert, self.site.server_cert, self.site.server_key,
                           self.state / "broker", extra_acl=FLEET_ACL)
        sim = SimulatedReader(SimScript.model_validate({"steps": [{"absent_s": 1.0}]}))
        camera = VisitorCamera()
        with broker:
            port = sim.start()
            try:
                config_path = self.site.provision_kiosk(DEVICE, broker.port, {
                    "cardreader": {"type": "serial", "port": port},
                    "camera": {"type": "replay", "replay_path": str(REPO / "models/golden"),
                               "fps": 10.0},
                    "session": {"decided_hold_s": 4.0},
                    # Blink works on real eyes (9/9 labelled blinks, docs/liveness-evidence.md),
                    # but the synthetic visitor's painted lids lower the face mesh's eye opening
                    # by 0-5 % (the detector needs 20 %), and the mesh warp cannot open this
                    # photo's mouth far enough (device/liveness/evaluate.screen_source): the demo
                    # kiosk asks for head movements only. Production kiosks use all five actions.
                    # The "genuine" visitor is a still photo warped by its own mesh: the passive
                    # anti-spoofing model rightly calls it a photo, so the demo turns it off
                    # (it stays on by default: BPCER 0 % on real footage, README). Three head
                    # movements keep the security minimum only without re-prompts
                    # (docs/liveness-evidence.md): the demo visitor is never confused.
                    "liveness": {"actions": ["turn_left", "turn_right", "nod"],
                                 "antispoof_model": False, "max_reprompts": 0},
                })
                receiver, store = self._receiver(broker)
                kiosk = Kiosk(load(config_path), config_path, camera=camera)
                kiosk.view_listeners.append(camera.on_view)
                kiosk.view_listeners.append(lambda view: agree_on_consent(kiosk, view))
                self._enrol(kiosk, photos)
                receiver.start()
                try:
                    return self._serve(kiosk, sim, camera, receiver, store, photos)
                finally:
                    receiver.stop()
            finally:
                sim.stop()

    def _receiver(self, broker: Mosquitto) -> tuple[Receiver, ResultStore]:
        cert, key = self.site.client_files("bureau")
        link = LinkConfig(host=broker.host, port=broker.port, ca_cert=str(self.site.ca_cert),
                          client_cert=str(cert), client_key=str(key), client_id="bureau-demo",
                          reconnect_min_s=0.2, reconnect_max_s=2.0)
        (self.state / "bureau").mkdir(parents=True, exist_ok=True)
        store = ResultStore(self.state / "bureau" / "results.sqlite3")
        receiver = Receiver(link, DeviceRegistry(self.site.registry),
                            identity.load_okp(self.site.bureau_key, "bureau"), store)
        return receiver, store

    def _enrol(self, kiosk: Kiosk, photos: dict[str, Path]) -> None:
        """Service-window enrolment of the three people's reference templates."""
        config = kiosk.config
        analyzer = FaceAnalyzer.load(config.vision)
        embedder = Embedder.from_settings(config.vision)
        templates = open_templates(config)
        folder = next(iter(photos.values())).parent
        for number, names in ENROLMENT.items():
            images = [(name, read_rgb(folder / name)) for name in names]
            result = enrol_images(images, analyzer, embedder, config.session.quality,
                                  strict=False)
            if result.embedding is None:
                raise RuntimeError(f"enrolment of {mask_id(number)} failed: {result.refused}")
            templates.put(number, result.embedding, embedder.model_id, source="demo enrolment")
        log.info("enrolled %d people at the 'service window'", len(ENROLMENT))

    def _serve(self, kiosk: Kiosk, sim: SimulatedReader, camera: VisitorCamera,
               receiver: Receiver, store: ResultStore,
               photos: dict[str, Path]) -> list[dict[str, Any]]:
        receiver.wait_ready(15)
        daemon = kiosk.build()
        thread = threading.Thread(target=daemon.run, name="kiosk", daemon=True)
        thread.start()
        analyzer = FaceAnalyzer.load(kiosk.config.vision)
        folder = next(iter(photos.values())).parent
        rng = np.random.default_rng(2026)
        rows = []
        try:
            _wait(lambda: kiosk.publisher.status()["connected"], 30, "kiosk online")
            for visitor in VISITORS:
                scene = make_scene(visitor.scene, folder, analyzer, rng)
                rows.append(self._visit(kiosk, sim, camera, receiver, store, visitor, scene))
        finally:
            daemon.loop.stop()
            thread.join(30)
        return rows

    def _visit(self, kiosk: Kiosk, sim: SimulatedReader, camera: VisitorCamera,
               receiver: Receiver, store: ResultStore, visitor: Visitor,
               scene: Scene | None) -> dict[str, Any]:
        log.info("visitor: %s", visitor.who)
        before = store.count() if store_ready(store) else 0
        camera.show(scene)
        sim.place(visitor.card)
        if visitor.leaves_after_s is not None:
            time.sleep(visitor.leaves_after_s)
            camera.show(None)
            sim.place(None)
        latest = self._next_result(store, before)
        while visitor.tries_again and latest.record["decision"] == "fail":
            log.info("attempt %s failed (%s): the visitor tries again", latest.record["attempt"],
                     ",".join(latest.record.get("reasons", [])))
            latest = self._next_result(store, store.count())
        camera.show(None)
        sim.place(None)
        _wait(lambda: kiosk.handler is not None and kiosk.handler.state() == "idle", 30, "idle")
        record = latest.record
        return {
            "who": visitor.who, "expected": visitor.expected,
            "decision": record["decision"], "reasons": ",".join(record.get("reasons", [])),
            "match": (record.get("scores") or {}).get("match"),
            "liveness": (record.get("scores") or {}).get("liveness"),
            "verified": latest.device_id == DEVICE, "seq": latest.seq, "id": latest.jti,
            "attempt": record.get("attempt"),
            "person": mask_id((latest.personal or {}).get("id_number", "")),
        }


    @staticmethod
    def _next_result(store: ResultStore, before: int) -> Any:
        """The next result the bureau stored (verified and unsealed by its receiver)."""
        _wait(lambda: store_ready(store) and store.count() > before, 90, "the bureau's copy")
        return list(store.rows())[-1]


def agree_on_consent(kiosk: Kiosk, view: Mapping[str, Any]) -> None:
    """Every demo visitor reads the consent notice and agrees (as the page's button would)."""
    if view.get("state") == "consent":
        kiosk.bus.post(ConsentAnswered(True, NOTICE_VERSION), timeout_s=0.0)


def store_ready(store: ResultStore) -> bool:
    try:
        store.count()
    except Exception:  # the receiver opens the store when it starts
        return False
    return True


def make_scene(kind: str, folder: Path, analyzer: FaceAnalyzer,
               rng: np.random.Generator) -> Scene | None:
    if kind == "nobody":
        return None
    role, photo = kind.split(":", 1)
    source = face_source(photo, read_rgb(folder / photo), analyzer)
    scene: Scene = Person(source, rng) if role == "person" else PhotoAttack(source, rng, True)
    scene.frame(None, 0.0)  # builds the face warper now, not inside the camera thread
    return scene


def _wait(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: no {what} within {timeout_s:.0f} s")
        time.sleep(0.1)


def print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print(f"{'visitor':<34} {'expected':<9} {'decision':<9} {'try':>3} {'match':>6} {'live':>5} "
          f"{'bureau verified':<16} {'person':<20} reasons")
    for row in rows:
        match = f"{row['match']:.3f}" if isinstance(row["match"], float) else "-"
        live = f"{row['liveness']:.2f}" if isinstance(row["liveness"], float) else "-"
        verified = f"yes seq {row['seq']}" if row["verified"] else "NO"
        print(f"{row['who']:<34} {row['expected']:<9} {row['decision']:<9} {row['attempt']:>3} "
              f"{match:>6} "
              f"{live:>5} {verified:<16} {row['person']:<20} {row['reasons']}")


if __name__ == "__main__":
    sys.exit(main())
