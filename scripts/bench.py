#!/usr/bin/env python3
"""`make bench`: faceterm's per-stage latency, per-verification compute, sustained frame rate,
start-up time, peak memory and outbox throughput, on this machine, one thread.

    .venv/bin/python scripts/bench.py [--repeats 50] [--lfw 100] [--fps-seconds 10]
        [--starts 3] [--submit 300] [--publish-live 200 --publish-drain 500 | --no-publish]

Prints two markdown tables and writes reports/bench.json and reports/bench.md. Uses
scikit-image's public-domain astronaut and, when ../shared/data/lfw-dev exists, a fixed sample of
its images (read in place, never copied). No broker is needed except by the end-to-end row,
which runs scripts/bench_publish.py (real mosquitto) with small counts.
"""

from __future__ import annotations

import os

# One thread for every numeric library, before numpy and OpenCV are imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import bench_frame_path as fp  # noqa: E402
import bench_stages as st  # noqa: E402
import bench_system as sy  # noqa: E402

LFW = REPO.parent / "shared" / "data" / "lfw-dev" / "images"
NOTES = {
    "detect": "BlazeFace short range (FaceAnalyzer.detector)",
    "landmarks (face mesh)": "468-point mesh on the detection's crop",
    "iris (both eyes)": "iris model, two eye crops (liveness frames only)",
    "analyze (detect+mesh+iris+pose)": "FaceAnalyzer.analyze(with_iris=True): one still",
    "track (frame loop: mesh from the last mesh)": "FaceAnalyzer.track, no iris, the same "
    "images in turn: the detector every 5th call (lfw: the last image's mesh crops the next)",
    "align (5-point, 112x112)": "align_face(five_points(face))",
    "quality (assess)": "device.vision.quality.assess, every gate",
    "liveness measure()": "EAR, eye contrast, mouth, pose (each liveness frame)",
    "liveness passive cues()": "moire, frame edges (face region), glare (every 2nd frame)",
    "liveness observe() per frame": "LivenessProbe.observe incl. measure + cues every 2nd",
    "embed (sface_fp16)": "Embedder.embed, 112x112 crop",
    "match (3 probes)": "Matcher.match, mean of top 3 cosines",
    "sign (JWS Ed25519 + JWE)": "Signer.make: JWE ECDH-ES/X25519 A256GCM + JWS",
    "enqueue (Outbox.append, WAL, FULL)": "prebuilt 1.5 kB envelope, tmp SQLite, one commit",
}


def lfw_images(count: int) -> tuple[list[np.ndarray], str]:
    """A fixed, evenly spaced sample of lfw-dev (sorted paths), or none and the reason."""
    if count <= 0:
        return [], "skipped (--lfw 0)"
    if not LFW.is_dir():
        return [], f"skipped: {LFW} does not exist"
    every = sorted(LFW.glob("*/*.jpg"))
    files = every[:: max(1, len(every) // count)][:count]
    images = []
    for path in files:
        bgr = cv2.imread(str(path))
        if bgr is not None:
            images.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return images, f"{len(images)} of {len(every)} images, every {max(1, len(every) // count)}th"


def stage_table(parts: st.Parts, sets: dict[str, list[st.Prepared]], rounds: dict[str, int]
                ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for label, items in sets.items():
        if not items:
            continue
        print(f"bench: stages on {label} ({len(items)} images)", file=sys.stderr, flush=True)
        for name, (wall, cpu) in st.stage_samples(parts, items, rounds[label]).items():
            cell = st.summary(wall)
            cell["cpu_median_ms"] = round(float(np.median(cpu)), 3)
            out.setdefault(name, {})[label] = cell
    return out


def vm_kb(key: str) -> int | None:
    return sy.status_kb(os.getpid(), key)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from skimage import data

    report: dict[str, Any] = {"started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "load1_start": st.load_avg(), "threads": 1}
    cv2.setNumThreads(1)
    with st.temp_dir() as tmp_name:
        tmp = Path(tmp_name)
        parts = st.load_parts(REPO / "models", tmp)
        astronaut = np.ascontiguousarray(data.astronaut())
        lfw, lfw_note = lfw_images(args.lfw)
        print(f"bench: lfw-dev sample: {lfw_note}", file=sys.stderr, flush=True)
        sets = {"astronaut 512x512": st.prepare(parts, [astronaut]),
                "lfw-dev 250x250": st.prepare(parts, lfw)}
        report["images"] = {"astronaut 512x512": 1, "lfw-dev": lfw_note,
                            "lfw-dev single-face used": len(sets["lfw-dev 250x250"])}
        report["stages"] = stage_table(parts, sets, {"astronaut 512x512": args.repeats,
                                                     "lfw-dev 250x250": 1})
        config = sy.provision(tmp / "verify")
        publisher = sy.Publisher(sy.load(config))
        publisher.open()
        report["verification"], report["fps"] = {}, {}
        try:
            for label, items in sets.items():
                if not items:
                    continue
                print(f"bench: whole verifications, {label}", file=sys.stderr, flush=True)
                report["verification"][label] = st.verification(
                    parts, items, st.Plan(), args.verifications,
                    lambda: publisher.submit(st.RECORD, st.PERSONAL))
                print(f"bench: sustained fps, {label}, {args.fps_seconds} s", file=sys.stderr,
                      flush=True)
                report["fps"][label] = st.sustained_fps(parts, items, args.fps_seconds)
        finally:
            publisher.outbox.close()
        footage = REPO / ".cache" / "footage"
        if args.footage_sessions and footage.is_dir():
            print(f"bench: per-frame path on real footage, {args.footage_sessions} sessions",
                  file=sys.stderr, flush=True)
            report["frame_path"] = fp.run(footage, args.footage_sessions, 20261125,
                                          str(REPO / "models"))
        report["bench_rss"] = {"vm_hwm_kb": vm_kb("VmHWM"), "vm_rss_kb": vm_kb("VmRSS"),
                               "load1": st.load_avg()}
        print("bench: Publisher.submit throughput", file=sys.stderr, flush=True)
        report["submit"] = sy.submit_rate(sy.provision(tmp / "submit"), args.submit,
                                          st.RECORD, st.PERSONAL)
        print(f"bench: daemon start-up x{args.starts}", file=sys.stderr, flush=True)
        report["startup"] = sy.startup(tmp / "daemon", args.starts, args.settle)
    if args.no_publish:
        report["end_to_end"] = {"error": "skipped (--no-publish)"}
    else:
        print("bench: scripts/bench_publish.py (mosquitto)", file=sys.stderr, flush=True)
        report["end_to_end"] = sy.end_to_end(args.publish_live, args.publish_drain, 180.0)
    report["load1_end"] = st.load_avg()
    return report


def ms(cell: dict[str, Any]) -> tuple[str, str]:
    return f"{cell['median_ms']:.2f}", f"{cell['p90_ms']:.2f}"


def stage_rows(report: dict[str, Any]) -> list[str]:
    lines = ["| stage | median ms | p90 ms | notes |", "| --- | ---: | ---: | --- |"]
    for name, by_set in report["stages"].items():
        for label, cell in by_set.items():
            median, p90 = ms(cell)
            note = (f"{NOTES.get(name, '')}; n={cell['n']}; mean {cell['mean_ms']:.2f}, CPU "
                    f"median {cell['cpu_median_ms']:.2f} ms; load {cell['load1']}")
            lines.append(f"| {name} — {label} | {median} | {p90} | {note} |")
    return lines


def system_rows(report: dict[str, Any]) -> list[str]:
    s, u, rss = report["submit"], report["startup"], report["bench_rss"]
    lines = ["| metric | value | notes |", "| --- | ---: | --- |"]
    for label, v in report["verification"].items():
        wall, cpu = v["wall"], v["cpu"]
        lines += [
            f"| compute per verification, {label} (median / p90) | {wall['median_ms']:.0f} / "
            f"{wall['p90_ms']:.0f} ms | wall, n={wall['n']}, 1 thread; load {wall['load1']} |",
            f"| CPU time per verification, {label} (median / p90) | {cpu['median_ms']:.0f} / "
            f"{cpu['p90_ms']:.0f} ms | process CPU time (user+sys) |"]
    for label, f in report["fps"].items():
        embed = report["stages"]["embed (sface_fp16)"][label]["median_ms"]
        with_embed = 1000.0 / (1000.0 / f["fps"] + embed / 3.0)
        lines.append(
            f"| sustained per-frame path, {label} | {f['fps']} frames/s | {f['frames']} frames in"
            f" {f['seconds']} s (CPU {f['cpu_s']} s); track (iris as the probe asks), align, "
            "quality, observe; no "
            f"embed; per frame {f['per_frame']['median_ms']:.1f} / "
            f"{f['per_frame']['p90_ms']:.1f} ms; with the embed of every 3rd liveness frame "
            f"(derived): {with_embed:.0f} frames/s; load {f['per_frame']['load1']} |")
    for phase, cell in report.get("frame_path", {}).items():
        if not isinstance(cell, dict) or "cpu_with_embed" not in cell:
            continue
        w, c = cell["wall_without_embed"], cell["cpu_without_embed"]
        lines.append(
            f"| per-frame path on real footage, {phase} frames (SessionRunner.on_frame) | "
            f"{w['median_ms']:.2f} ms median | wall p90 {w['p90_ms']:.2f}, mean {w['mean_ms']:.2f};"
            f" CPU median {c['median_ms']:.2f} ms; without the SFace embed of every 3rd liveness "
            f"frame (with it: median {cell['wall_with_embed']['median_ms']:.2f} ms); n={w['n']}, "
            f"{report['frame_path']['sessions']} puppet sessions, 640x480 15 fps; "
            f"scripts/bench_frame_path.py |")
    lines += [
        f"| start-up to READY=1 (median of {len(u['runs'])}) | {u['ready_median_s']:.2f} s | "
        f"all: {u['ready_all_s']} s; spawn to READY=1 on our NOTIFY_SOCKET; "
        f"load {[r['load1'] for r in u['runs']]} |",
        f"| daemon peak RSS (VmHWM) | {u['vm_hwm_max_mb']} MB | {u['settle_s']} s after READY, "
        "idle (no card: no session, no inference); max of the starts |",
        f"| bench process peak RSS (VmHWM) | {rss['vm_hwm_kb'] / 1024:.1f} MB | all models "
        f"(1 thread), skimage, lfw sample in memory; load {rss['load1']} |",
        f"| Publisher.submit (seal+sign+durable commit) | {s['results_per_s']:.0f} results/s | "
        f"{s['count']} results; {s['median_ms']:.2f} / {s['p90_ms']:.2f} ms median/p90; "
        f"CPU {s['cpu_ms_per_result']:.2f} ms each; ext4 tmp dir; load {s['load1']} |"]
    e = report["end_to_end"]
    if "error" in e:
        lines.append(f"| end to end outbox→broker→receiver | - | {e['error']} |")
    for index, (name, value) in enumerate(e.get("rows", {}).items()):
        note = f"`{e['command']}`, real mosquitto (TLS), {e['seconds']} s" if index == 0 else ""
        lines.append(f"| bench_publish.py: {name} | {value} | {note} |")
    return lines


def render(report: dict[str, Any]) -> str:
    head = (f"faceterm bench, {report['started_utc']}, {platform.node()}, {platform.machine()},"
            f" {os.cpu_count()} cores; load average 1 min {report['load1_start']} at start, "
            f"{report['load1_end']} at end; run time {report['runtime_s']:.0f} s; one thread")
    plan = f"One verification = {st.Plan().describe()}."
    return "\n".join([head, "", *stage_rows(report), "", *system_rows(report), "", plan, ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timings per stage, astronaut")
    parser.add_argument("--lfw", type=int, default=100, help="lfw-dev images (0: none)")
    parser.add_argument("--verifications", type=int, default=5)
    parser.add_argument("--fps-seconds", type=float, default=10.0)
    parser.add_argument("--footage-sessions", type=int, default=6,
                        help="puppet sessions of the per-frame path on .cache/footage (0: none)")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--settle", type=float, default=2.0, help="s after READY before VmHWM")
    parser.add_argument("--submit", type=int, default=300)
    parser.add_argument("--publish-live", type=int, default=200)
    parser.add_argument("--publish-drain", type=int, default=500)
    parser.add_argument("--no-publish", action="store_true", help="skip bench_publish.py")
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    args = parser.parse_args()
    started = time.perf_counter()
    report = run(args)
    report["runtime_s"] = round(time.perf_counter() - started, 1)
    report["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    text = render(report)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (args.out / "bench.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
