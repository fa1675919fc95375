"""Whole-system numbers for scripts/bench.py: daemon start-up to READY=1 and its peak RSS,
Publisher.submit throughput on this disk, and scripts/bench_publish.py's end-to-end figures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from device.config import load
from device.demo.site import Site
from device.publish.publisher import Publisher

REPO = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def provision(root: Path) -> Path:
    """A kiosk config: simulated card reader (no card ever), replay camera, no UI, no broker."""
    root.mkdir(parents=True, exist_ok=True)
    script = root / "cards.json"
    script.write_text(json.dumps({"repeat": True, "steps": [{"absent_s": 1.0}]}))
    sections = {
        "cardreader": {"type": "sim", "sim_script": str(script)},
        "camera": {"type": "replay", "replay_path": str(REPO / "models" / "golden"),
                   "fps": 10.0},
        "ui": {"enabled": False},
    }
    return Site.create(root / "site").provision_kiosk("bench-1", free_port(), sections)


def status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def one_start(config: Path, root: Path, index: int, settle_s: float) -> dict[str, Any]:
    """Spawn the daemon, wait for READY=1 on our notify socket, read VmHWM, stop it."""
    address = root / f"notify-{index}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        env = dict(os.environ, NOTIFY_SOCKET=str(address), PYTHONUNBUFFERED="1")
        log = (root / f"daemon-{index}.log").open("wb")
        cmd = [sys.executable, "-m", "device", "--config", str(config), "run", "--duration", "20"]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            ready_s = wait_ready(sock, proc, started, root / f"daemon-{index}.log")
            time.sleep(settle_s)
            hwm, rss = status_kb(proc.pid, "VmHWM"), status_kb(proc.pid, "VmRSS")
            stop_s = stop(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            log.close()
    return {"ready_s": ready_s, "vm_hwm_kb": hwm, "vm_rss_kb": rss, "stop_s": stop_s,
            "exit_code": proc.returncode, "load1": round(os.getloadavg()[0], 2)}


def wait_ready(sock: socket.socket, proc: subprocess.Popen[bytes], started: float,
               log: Path) -> float:
    deadline = started + READY_TIMEOUT_S
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").splitlines()[-5:]
            raise RuntimeError(f"daemon exited with {proc.returncode} before READY=1: {tail}")
        sock.settimeout(0.2)
        try:
            message = sock.recv(4096).decode("utf-8", "replace")
        except TimeoutError:
            continue
        if "READY=1" in message.split("\n"):
            return time.perf_counter() - started
    raise RuntimeError(f"no READY=1 within {READY_TIMEOUT_S} s")


def stop(proc: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(STOP_TIMEOUT_S)
    return time.perf_counter() - started


def startup(root: Path, starts: int, settle_s: float) -> dict[str, Any]:
    config = provision(root)
    runs = [one_start(config, root, i, settle_s) for i in range(starts)]
    ready = [r["ready_s"] for r in runs]
    hwm = [r["vm_hwm_kb"] for r in runs if r["vm_hwm_kb"]]
    return {
        "runs": runs,
        "ready_median_s": round(float(np.median(ready)), 3),
        "ready_all_s": [round(x, 3) for x in ready],
        "vm_hwm_max_mb": round(max(hwm) / 1024.0, 1) if hwm else None,
        "settle_s": settle_s,
        "config": str(config),
    }


def submit_rate(config_path: Path, count: int, record: dict[str, Any],
                personal: dict[str, str]) -> dict[str, Any]:
    """Publisher.submit (seal + sign + durable commit) with the kiosk's own keys, no broker."""
    publisher = Publisher(load(config_path))
    publisher.open()  # keys and outbox only: no MQTT thread, so the rows just accumulate
    samples = []
    try:
        for _ in range(5):
            publisher.submit(record, personal)
        cpu_started = time.process_time()
        started = time.perf_counter()
        for _ in range(count):
            t0 = time.perf_counter()
            publisher.submit(record, personal)
            samples.append((time.perf_counter() - t0) * 1000.0)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        publisher.outbox.close()
    return {
        "results_per_s": round(count / elapsed, 1),
        "count": count,
        "median_ms": round(float(np.median(samples)), 3),
        "p90_ms": round(float(np.percentile(samples, 90)), 3),
        "cpu_ms_per_result": round(cpu / count * 1000.0, 3),
        "outbox": str(publisher.outbox.path),
        "load1": round(os.getloadavg()[0], 2),
    }


def end_to_end(live: int, drain: int, timeout_s: float) -> dict[str, Any]:
    """Run scripts/bench_publish.py (real mosquitto, TLS, bureau receiver) with small counts."""
    cmd = [sys.executable, str(REPO / "scripts" / "bench_publish.py"),
           "--live", str(live), "--drain", str(drain)]
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"bench_publish.py timed out after {timeout_s:.0f} s"}
    rows: dict[str, str] = {}
    for line in done.stdout.splitlines()[2:]:
        name, _, value = line.rpartition("  ")
        if name.strip():
            rows[name.strip()] = value.strip()
    shown = " ".join(["scripts/bench_publish.py", *cmd[2:]])
    result: dict[str, Any] = {"command": shown, "exit_code": done.returncode,
                              "seconds": round(time.perf_counter() - started, 1), "rows": rows}
    if done.returncode != 0:
        result["error"] = (done.stderr.strip().splitlines() or ["?"])[-1][:300]
    return result
