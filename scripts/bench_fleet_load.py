#!/usr/bin/env python3
"""`make bench` (fleet part): 2,000 simulated terminals against one local mosquitto, 3 receivers
into a throwaway PostgreSQL. Loopback only, bounded in count and time.

    .venv/bin/python scripts/bench_fleet_load.py [--devices 2000] [--workers 4]
        [--steady 200 --steady-s 30] [--burst-s 60] [--peak-s 5] [--out reports/fleet_load.md]

Every terminal has its own Ed25519 signing key (registered at the bureau under its tenant), its
own TLS client certificate and its own MQTT v5 connection (paho clients, a few hundred per worker
process). Three phases: steady (a realistic trickle: --steady results over --steady-s seconds),
the morning burst (every terminal once within --burst-s) and a peak (every terminal once within
--peak-s). Results are real signed envelopes with sealed personal data, published QoS 1 on the
device's own topic; three `faceterm-bureau run --dsn` receivers on one shared subscription verify,
unseal and store them. Reported: results/s stored, end-to-end latency from the envelope's creation
(its UUIDv7 jti, millisecond resolution) to stored, broker and receiver CPU seconds and peak RSS,
lost (must be 0) and stored twice (must be 0).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import paho.mqtt.client as mqtt  # noqa: E402
from joserfc.jwk import OKPKey  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from device.bureau.store import ResultStore  # noqa: E402
from device.demo.broker import Mosquitto  # noqa: E402
from device.publish import envelope as env  # noqa: E402
from device.publish import identity  # noqa: E402
from device.publish import pki as x509kit  # noqa: E402
from tests.support.pki import TestPki, make_bureau  # noqa: E402
from tests.support.postgres import Postgres  # noqa: E402

RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}
TENANTS = ("district-01", "district-02", "district-03", "district-04")
CONNECT_TIMEOUT_S = 300.0
DRAIN_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Terminal:
    device_id: str
    tenant: str
    cert: str
    key: str
    signing_jwk: dict[str, Any]


def provision(pki: TestPki, registry: Path, count: int) -> list[Terminal]:
    folder = pki.directory / "terminals"
    folder.mkdir()
    terminals, entries = [], {}
    for index in range(count):
        device_id = f"kiosk-{index:04d}"
        tenant = TENANTS[index % len(TENANTS)]
        cert, key = x509kit.issue_files(pki.authority, folder, device_id)
        signing = OKPKey.generate_key("Ed25519")
        entries[device_id] = {"jwk": signing.as_dict(private=False), "tenant": tenant}
        terminals.append(Terminal(device_id, tenant, str(cert), str(key),
                                  signing.as_dict(private=True)))
    identity.write_json(registry, entries)
    return terminals


def schedule(terminals: list[Terminal], args: argparse.Namespace, seed: int) -> list[tuple]:
    """(offset_s, terminal index, phase) for every result, sorted by time."""
    rng = random.Random(seed)
    events = [(rng.uniform(0, args.steady_s), rng.randrange(len(terminals)), "steady")
              for _ in range(args.steady)]
    start = args.steady_s
    events += [(start + rng.uniform(0, args.burst_s), i, "burst") for i in range(len(terminals))]
    start += args.burst_s
    events += [(start + rng.uniform(0, args.peak_s), i, "peak") for i in range(len(terminals))]
    return sorted(events)


def worker(terminals: list[Terminal], events: list[tuple], host: str, port: int, ca: str,
           bureau_public: dict[str, Any], t0: float, out: Any) -> None:
    """Connect every terminal, then publish its results at their scheduled times."""
    public = OKPKey.import_key(bureau_public)
    clients, connected, acked = {}, threading.Semaphore(0), threading.Semaphore(0)
    for term in terminals:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=term.device_id,
                             protocol=mqtt.MQTTv5)
        client.tls_set(ca_certs=ca, certfile=term.cert, keyfile=term.key,
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = lambda c, u, f, rc, p: connected.release()
        client.on_publish = lambda c, u, mid, rc, p: acked.release()
        client.connect_async(host, port, keepalive=120)
        client.loop_start()
        clients[term.device_id] = client
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    for _ in terminals:
        if not connected.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise SystemExit("bench_fleet_load: terminals could not all connect in time")
    out.put(("connected", len(terminals)))
    by_id = {t.device_id: t for t in terminals}
    signers = {t.device_id: env.Signer(t.device_id, OKPKey.import_key(t.signing_jwk), public)
               for t in terminals}
    seqs = dict.fromkeys(by_id, 0)
    sent = []
    for offset, device_id, phase in events:
        wait = t0 + offset - time.time()
        if wait > 0:
            time.sleep(wait)
        seqs[device_id] += 1
        term = by_id[device_id]
        made = signers[device_id].make(RECORD, {"id_number": "11010519491231002X"},
                                       seqs[device_id])
        clients[device_id].publish(f"faceterm/v1/{term.tenant}/{device_id}/result",
                                   made.token.encode(), qos=1)
        sent.append((made.jti, phase))
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    for _ in sent:
        if not acked.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    out.put(("sent", sent))
    for client in clients.values():
        client.disconnect()
        client.loop_stop()


def proc_usage(pid: int) -> tuple[float, float]:
    """(CPU seconds user+system, peak RSS MB) of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    hwm = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmHWM"))
    return cpu, int(hwm.split()[1]) / 1024


def receiver(pki: TestPki, registry: Path, bureau_key: Path, host: str, port: int,
             dsn: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    files = pki.client("bureau")
    command = [sys.executable, "-m", "device.bureau", "run", "--broker", f"{host}:{port}",
               "--ca", str(files.ca), "--cert", str(files.cert), "--key", str(files.key),
               "--devices", str(registry), "--bureau-key", str(bureau_key),
               "--client-id", name, "--dsn", dsn]
    with log.open("wb") as sink:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=sink,
                                env={**os.environ, "PYTHONPATH": str(REPO)})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(args: argparse.Namespace) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.devices + 1024)),
                                                hard))
    root = Path(tempfile.mkdtemp(prefix="faceterm-load-"))
    pki = TestPki.create(root / "pki")
    bureau = make_bureau(root / "bureau")
    began = time.monotonic()
    terminals = provision(pki, bureau.registry, args.devices)
    provision_s = time.monotonic() - began
    events = schedule(terminals, args, args.seed)
    with Postgres() as pg, Mosquitto(pki.ca_cert, pki.server_cert, pki.server_key,
                                     root / "broker") as broker:
        dsn = pg.dsn
        ResultStore(dsn=dsn).open()  # migrations once, before the receivers race for them
        receivers = [receiver(pki, bureau.registry, bureau.key, broker.host, broker.port, dsn,
                              f"bureau-{n}", root / f"bureau-{n}.log") for n in range(3)]
        time.sleep(3.0)  # receivers subscribe (their shared subscription must exist first)
        chunks = [terminals[i::args.workers] for i in range(args.workers)]
        queue: Any = mp.Queue()
        t0 = time.time() + 10.0 + args.devices / 40  # time for every worker to connect
        public = json.loads(bureau.public_jwk.read_text())
        procs = []
        for chunk in chunks:
            ids = {t.device_id for t in chunk}
            mine = [(o, terminals[i].device_id, p) for o, i, p in events
                    if terminals[i].device_id in ids]
            procs.append(mp.Process(target=worker, args=(chunk, mine, broker.host, broker.port,
                                                         str(pki.ca_cert), public, t0, queue)))
        for proc in procs:
            proc.start()
        connected = sum(queue.get(timeout=CONNECT_TIMEOUT_S + 60)[1] for _ in procs)
        sent: list[tuple[str, str]] = []
        for _ in procs:
            _kind, value = queue.get(timeout=args.steady_s + args.burst_s + args.peak_s
                                    + DRAIN_TIMEOUT_S + 120)
            sent += value
        for proc in procs:
            proc.join(60)
        store = ResultStore(dsn=dsn)
        store.open()
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while store.count() < len(sent) and time.monotonic() < deadline:
            time.sleep(0.5)
        rows = list(store.rows())
        store.close()
        broker_usage = proc_usage(broker.pid)
        receiver_usage = [proc_usage(r.pid) for r in receivers]
        statuses = []
        for r in receivers:
            r.send_signal(signal.SIGTERM)
            out, _ = r.communicate(timeout=60)
            statuses.append(json.loads(out or b"{}"))
    stored = {r.jti: r for r in rows}
    phase_of = dict(sent)
    latencies = [r.received_ns / 1e6 - env.uuid7_time_ms(uuid.UUID(r.jti)) for r in rows]
    received = sorted(r.received_ns for r in rows)
    span_s = (received[-1] - received[0]) / 1e9 if len(received) > 1 else float("nan")
    phases = {phase: sum(1 for e in events if e[2] == phase)
              for phase in ("steady", "burst", "peak")}
    return {
        "devices": args.devices, "connected": connected, "workers": args.workers,
        "provision_s": round(provision_s, 1), "phases": phases, "sent": len(sent),
        "stored": len(rows), "lost": len(set(phase_of) - set(stored)),
        "peak_results_per_s": _phase_rate(rows, phase_of, "peak"),
        "burst_results_per_s": _phase_rate(rows, phase_of, "burst"),
        "stored_twice": len(rows) - len({(r.device_id, r.seq) for r in rows}),
        "results_per_s": round(len(rows) / span_s, 1) if span_s == span_s else None,
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 1),
                       "p99": round(percentile(latencies, 0.99), 1),
                       "max": round(max(latencies), 1) if latencies else None},
        "broker": {"cpu_s": round(broker_usage[0], 1), "peak_rss_mb": round(broker_usage[1], 1)},
        "receivers": [{"cpu_s": round(c, 1), "peak_rss_mb": round(m, 1)}
                      for c, m in receiver_usage],
        "receiver_counters": [s.get("counters", {}) for s in statuses],
    }


def _phase_rate(rows: list[Any], phase_of: dict[str, str], phase: str) -> float | None:
    """Results of one phase / (last stored - first created) of that phase."""
    mine = [r for r in rows if phase_of.get(r.jti) == phase]
    if len(mine) < 2:
        return None
    first_ms = min(env.uuid7_time_ms(uuid.UUID(r.jti)) for r in mine)
    last_ms = max(r.received_ns / 1e6 for r in mine)
    return round(len(mine) / ((last_ms - first_ms) / 1000.0), 1)


def report(result: dict[str, Any], path: Path) -> None:
    lines = [
        "# 2,000-terminal load (scripts/bench_fleet_load.py)", "",
        f"{result['devices']} terminals ({result['connected']} connected, own key, certificate "
        f"and TLS connection each) in {result['workers']} processes, one local mosquitto, 3 "
        "receivers into a throwaway PostgreSQL 15, loopback only.", "",
        "| measure | value |", "| --- | --- |",
        f"| results sent (steady / burst / peak) | {result['sent']} ({result['phases']}) |",
        f"| stored | {result['stored']} |",
        f"| lost | {result['lost']} |",
        f"| stored twice | {result['stored_twice']} |",
        f"| stored per second over the whole run | {result['results_per_s']} |",
        f"| stored per second in the morning burst / in the peak | "
        f"{result['burst_results_per_s']} / {result['peak_results_per_s']} |",
        f"| latency created -> stored, p50 / p99 / max | {result['latency_ms']['p50']} / "
        f"{result['latency_ms']['p99']} / {result['latency_ms']['max']} ms |",
        f"| broker CPU / peak RSS | {result['broker']['cpu_s']} s / "
        f"{result['broker']['peak_rss_mb']} MB |",
    ]
    for n, r in enumerate(result["receivers"]):
        lines.append(f"| receiver {n} CPU / peak RSS | {r['cpu_s']} s / {r['peak_rss_mb']} MB |")
    lines += ["", "Receiver counters: " + json.dumps(result["receiver_counters"]), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    path.with_suffix(".json").write_text(json.dumps(result, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--steady", type=int, default=200)
    parser.add_argument("--steady-s", type=float, default=30.0)
    parser.add_argument("--burst-s", type=float, default=60.0)
    parser.add_argument("--peak-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "fleet_load.md")
    args = parser.parse_args()
    if not 1 <= args.devices <= 5000 or not 1 <= args.workers <= 16:
        parser.error("--devices 1..5000 and --workers 1..16")
    result = run(args)
    report(result, args.out)
    print(args.out.read_text())
    return 0 if result["lost"] == 0 and result["stored_twice"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
