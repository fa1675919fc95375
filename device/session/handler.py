"""The session built from the configuration.

`build_runner(config, on_view, on_record)` opens the models (sha256-verified), the templates
store and the liveness probe; device/core_handler.py feeds the core loop's events to it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from device.cardreader.wlt import WltDecoder
from device.clock import ClockProbe, kernel_synced
from device.config import Config
from device.liveness.antispoof import AntispoofModel
from device.liveness.api import LivenessProbe
from device.match.adapt import AdaptPolicy
from device.match.keys import load_secrets
from device.match.matcher import Matcher, resolve_threshold
from device.match.photo import card_photo_reference
from device.match.templates import TemplateStore
from device.match.thresholds import DecidedWith, check_threshold, manifest_range
from device.session.machine import Rules
from device.session.runner import Readiness, RecordSink, SessionRunner, ViewSink
from device.vision.analyzer import FaceAnalyzer, resolve_models_dir
from device.vision.embed import Embedder
from device.vision.models import Manifest

log = logging.getLogger(__name__)


def open_templates(config: Config, environ: Mapping[str, str] | None = None) -> TemplateStore:
    """The templates store of [session], its key and salt from the credential store."""
    state_dir = Path(config.device.state_dir)
    s = config.session
    database = config.state_path(s.templates_db)
    secrets = load_secrets(state_dir, s.templates_key, s.templates_salt, environ or os.environ,
                           create=not database.exists())
    store = TemplateStore(database, secrets)
    store.open()
    return store


def build_matcher(config: Config, embedder: Embedder) -> tuple[Matcher, DecidedWith]:
    """The match policy and what records say it decides with; ConfigError when the threshold
    leaves the embed model's manifest range without an override (device/match/thresholds.py)."""
    s = config.session
    threshold = resolve_threshold(s.match_threshold, embedder.threshold, s.match_margin)
    bounds = manifest_range(embedder.model_id, embedder.entry.raw) if embedder.entry else None
    decided = check_threshold(threshold, bounds, s.match_threshold_override, embedder.model_id)
    return Matcher(threshold, s.best_frames, s.fusion), decided


def clock_probe(config: Config) -> ClockProbe:
    kernel = kernel_synced if config.device.clock_kernel_check else None
    return ClockProbe(Path(config.device.clock_sync_file), kernel)


def build_probe(config: Config, manifest: Manifest) -> LivenessProbe | None:
    if not config.liveness.enabled:
        return None
    antispoof = None
    if config.liveness.antispoof_model:
        antispoof = AntispoofModel.from_manifest(manifest, config.vision.num_threads)
    return LivenessProbe(config.liveness, np.random.default_rng(), antispoof)


def build_runner(
    config: Config,
    on_view: ViewSink,
    on_record: RecordSink,
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    readiness: Readiness = lambda: None,
) -> SessionRunner:
    """A runner with every part opened from the configuration (models verified first).
    `readiness` says why no session may start (the outbox cannot store); the templates store
    adds its own reason (renamed aside, held for an operator)."""
    analyzer = FaceAnalyzer.load(config.vision, base_dir)
    embedder = Embedder.from_settings(config.vision, base_dir)
    matcher, decided_with = build_matcher(config, embedder)
    store = open_templates(config, environ)
    photo = None
    if config.cardreader.wlt_decoder_path:
        decoder = WltDecoder(config.cardreader.wlt_decoder_path)
        photo = card_photo_reference(decoder, analyzer, embedder, store.subject)
    probe = build_probe(config, Manifest.load(resolve_models_dir(config.vision, base_dir)))
    return SessionRunner(
        rules=Rules.from_settings(config.session, probe is not None,
                                  kiosk_consent=config.ui.enabled and config.ui.consent_screen,
                                  consent_timeout_s=config.ui.consent_timeout_s),
        quality=config.session.quality,
        analyzer=analyzer,
        embedder=embedder,
        matcher=matcher,
        references=store,
        on_view=on_view,
        on_record=on_record,
        device_id=config.device.id,
        liveness=probe,
        photo_reference=photo,
        best_frames=config.session.best_frames,
        decided_with=decided_with,
        clock_state=clock_probe(config).read,
        readiness=lambda: store.problem() or readiness(),
        adaptation=AdaptPolicy() if config.session.reference_adaptation else None,
        adapted=store,
    )

