"""The session state machine, event by event (pure: no models, no clock)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.session import machine as m

GOOD_ID = "11010519491231002X"
OTHER_ID = "110108195103150023"
RULES = m.Rules(
    max_attempts=3,
    identify_timeout_s=10,
    capture_timeout_s=20,
    liveness_timeout_s=30,
    decided_hold_s=2,
    capture_frames=3,
    liveness_enabled=True,
)


def run(events, rules=RULES, session=None):
    """Feed events; return the final session and every effect in order."""
    session = session or m.Session()
    effects = []
    for event in events:
        session, out = m.step(session, event, rules)
        effects.extend(out)
    return session, effects


def decisions(effects):
    return [(e.decision, e.reasons, e.attempt) for e in effects if isinstance(e, m.Decide)]


def codes(effects):
    return [e.code for e in effects if isinstance(e, m.Show)]


def identify(t=0.0, number=GOOD_ID, ref=True, **kw):
    return m.Identify(t, number, ref, **kw)


def good_frames(start, n=3):
    return [m.FrameChecked(start + i * 0.1) for i in range(n)]


def test_card_then_good_frames_then_live_then_match_passes():
    events = [
        identify(),
        *good_frames(1.0),
        m.LivenessDone(5.0, "live", 0.9),
        m.MatchDone(5.1, True, 0.71),
    ]
    s, effects = run(events)
    assert s.phase is m.Phase.DECIDED
    assert [type(e).__name__ for e in effects if not isinstance(e, m.Show)] == [
        "StartCapture",
        "StartLiveness",
        "StartMatch",
        "Decide",
    ]
    (decide,) = [e for e in effects if isinstance(e, m.Decide)]
    assert (decide.decision, decide.attempt, dict(decide.scores)) == (
        "pass",
        1,
        {"liveness": 0.9, "match": 0.71},
    )
    timings = dict(decide.timings_ms)
    assert timings["total"] == pytest.approx(5100.0)
    assert timings["identified"] == pytest.approx(1000.0)


def test_liveness_disabled_goes_straight_to_matching():
    s, effects = run(
        [identify(), *good_frames(1.0)], m.Rules(capture_frames=3, liveness_enabled=False)
    )
    assert s.phase is m.Phase.MATCHING
    assert any(isinstance(e, m.StartMatch) for e in effects)
    assert not any(isinstance(e, m.StartLiveness) for e in effects)


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (identify(number="110105194912310021"), "id_invalid"),  # wrong check digit
        (identify(number="12345"), "id_invalid"),
        (identify(source="worker", consent=False), "consent_required"),
    ],
)
def test_refused_identities_stay_idle(event, code):
    s, effects = run([event])
    assert s.phase is m.Phase.IDLE and codes(effects) == [code] and not decisions(effects)


def test_worker_keyed_number_is_accepted_with_consent():
    s, _effects = run([identify(number="11010519491231002x", source="worker")])
    assert s.phase is m.Phase.IDENTIFIED and s.source == "worker"
    assert s.id_number == GOOD_ID  # normalised (upper-case check character)


def test_no_reference_is_a_clear_outcome():
    _, effects = run([identify(ref=False)])
    assert decisions(effects) == [("no_reference", ("no_reference",), 1)]


@pytest.mark.parametrize(
    ("events", "reasons"),
    [
        (
            [identify(), m.FrameChecked(1.0, ("no_face",)), m.Tick(10.5)],
            ("identify_timeout", "no_face"),
        ),
        (
            [identify(), m.FrameChecked(1.0, ("too_dark",)), m.Tick(21.5)],
            ("capture_timeout", "too_dark"),
        ),
        ([identify(), *good_frames(1.0), m.Tick(31.0), m.Tick(31.3)], ("liveness_timeout",)),
    ],
)
def test_every_phase_times_out(events, reasons):
    _, effects = run(events)
    assert decisions(effects) == [("timeout", reasons, 1)]


def test_no_timeout_before_its_time_and_none_in_idle():
    s, effects = run([m.Tick(1e9)])
    assert s.phase is m.Phase.IDLE and effects == []
    s, effects = run([identify(), m.FrameChecked(1.0, ("no_face",)), m.Tick(9.9)])
    assert s.phase is m.Phase.IDENTIFIED and not decisions(effects)


def test_guidance_shows_the_first_issue_and_resets_nothing():
    s, effects = run([identify(), m.FrameChecked(1.0, ("too_far", "blurred")), m.FrameChecked(1.1)])
    assert codes(effects)[-2:] == ["too_far", "hold_still"]
    assert s.phase is m.Phase.GUIDING and s.good_frames == 1


def failing_attempt(start):
    return [
        *good_frames(start),
        m.LivenessDone(start + 1, "live"),
        m.MatchDone(start + 1.1, False, 0.1),
    ]


def test_failures_retry_then_refer():
    events = [identify(), *failing_attempt(1.0), m.Tick(4.2), *failing_attempt(5.0), m.Tick(8.2)]
    events += failing_attempt(9.0)
    s, effects = run(events)
    assert decisions(effects) == [
        ("fail", ("match_below_threshold",), 1),
        ("fail", ("match_below_threshold",), 2),
        ("refer", ("match_below_threshold", "attempts_exhausted"), 3),
    ]
    assert "retry" in codes(effects)
    s, effects = run([m.Tick(20.0)], session=s)
    assert s.phase is m.Phase.IDLE and codes(effects) == ["insert_card"]


def test_spoof_fails_with_the_probe_reasons():
    events = [identify(), *good_frames(1.0), m.LivenessDone(3.0, "spoof", 0.1, ("flash_mismatch",))]
    _, effects = run(events)
    assert decisions(effects) == [("fail", ("liveness_spoof", "flash_mismatch"), 1)]


def test_reinserting_the_card_does_not_reset_the_attempt_count():
    s, _ = run([identify(), *failing_attempt(1.0), m.CardRemoved(3.0)])
    assert s.phase is m.Phase.IDLE
    s, effects = run([identify(4.0)], session=s)
    assert s.attempt == 2
    s, effects = run(
        [*failing_attempt(5.0), m.CardRemoved(7), identify(8.0), *failing_attempt(9.0)], session=s
    )
    assert decisions(effects)[-1] == ("refer", ("match_below_threshold", "attempts_exhausted"), 3)
    s, effects = run([m.CardRemoved(11.0), identify(12.0)], session=s)
    assert decisions(effects) == [("refer", ("attempts_exhausted",), 4)]
    s, effects = run([m.CardRemoved(13.0), identify(13.0 + 1801)], session=s)
    assert s.phase is m.Phase.IDENTIFIED and s.attempt == 1  # the window has passed


def test_another_person_starts_at_attempt_one():
    s, _ = run([identify(), *failing_attempt(1.0), m.CardRemoved(3.0), identify(4.0, OTHER_ID)])
    assert s.attempt == 1


@pytest.mark.parametrize(
    "prefix",
    [
        [identify()],
        [identify(), m.FrameChecked(1.0)],
        [identify(), *good_frames(1.0)],
        [identify(), *good_frames(1.0), m.LivenessDone(2.0, "live")],
    ],
)
def test_card_removed_cancels(prefix):
    s, effects = run([*prefix, m.CardRemoved(3.0)])
    assert decisions(effects) == [("cancelled", ("card_removed",), 1)]
    assert s.phase is m.Phase.DECIDED and not s.retry


def test_card_removed_while_decided_just_returns_to_idle():
    s, _ = run(
        [identify(), *good_frames(1.0), m.LivenessDone(2, "live"), m.MatchDone(2.1, True, 0.8)]
    )
    s, effects = run([m.CardRemoved(3.0)], session=s)
    assert s.phase is m.Phase.IDLE and not decisions(effects)


def test_a_new_identity_while_busy_is_ignored():
    s, _effects = run([identify(), m.FrameChecked(1.0), identify(1.5, OTHER_ID)])
    assert s.id_number == GOOD_ID and s.phase is m.Phase.GUIDING


EVENTS = st.one_of(
    st.builds(
        m.Identify,
        st.just(0.0),
        st.sampled_from([GOOD_ID, OTHER_ID, "1"]),
        st.booleans(),
        st.sampled_from(["card", "worker"]),
        st.booleans(),
    ),
    st.builds(m.CardRemoved, st.just(0.0)),
    st.builds(m.FrameChecked, st.just(0.0), st.sampled_from([(), ("no_face",), ("blurred",)])),
    st.builds(m.LivenessDone, st.just(0.0), st.sampled_from(["live", "spoof", "inconclusive"])),
    st.builds(m.MatchDone, st.just(0.0), st.booleans(), st.floats(-1, 1)),
    st.builds(m.Tick, st.just(0.0)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(EVENTS, st.floats(0, 40)), max_size=40))
def test_any_event_sequence_keeps_the_invariants(steps):
    s, now = m.Session(), 0.0
    for event, gap in steps:
        now += gap
        event = type(event)(
            now, *[getattr(event, f) for f in event.__dataclass_fields__ if f != "now_s"]
        )
        s, effects = m.step(s, event, RULES)
        for effect in effects:
            if isinstance(effect, m.Decide):
                assert s.phase is m.Phase.DECIDED
                assert 1 <= effect.attempt <= RULES.max_attempts + 1
                assert effect.decision in {
                    "pass",
                    "fail",
                    "refer",
                    "timeout",
                    "no_reference",
                    "cancelled",
                }
        assert s.phase is m.Phase.IDLE or s.id_number in (GOOD_ID, OTHER_ID)
    # time alone always brings the machine back to idle or into a new attempt
    for extra in (60, 120, 180, 240, 300, 360, 420):
        s, _ = m.step(s, m.Tick(now + extra), RULES)
    assert s.phase in (m.Phase.IDLE, m.Phase.GUIDING, m.Phase.DECIDED)


def _starts(effects):
    return [e for e in effects if isinstance(e, m.StartLiveness)]


def _confused_attempt(t, done_well=("blink",), failed=("turn_left",)):
    return [*good_frames(t), m.LivenessDone(t + 2.0, "inconclusive", 0.4,
                                            ("challenge_wrong_action",), 2, 1, done_well, failed)]


def test_confusion_is_recorded_as_incomplete_with_its_guidance_not_as_spoof():
    _, effects = run([identify(), *_confused_attempt(1.0)])
    (decide,) = [e for e in effects if isinstance(e, m.Decide)]
    assert decide.reasons == ("liveness_incomplete", "challenge_wrong_action")
    assert "liveness_spoof" not in decide.reasons
    assert dict(decide.challenge) == {"retry_guidance": 2, "second_face_pauses": 1,
                                      "pace": "standard"}  # fmt: skip


def test_after_a_failed_attempt_the_next_one_is_slow_and_remembers_the_actions():
    events = [identify(), *_confused_attempt(1.0), m.Tick(5.5), *good_frames(6.0)]
    s, effects = run(events)
    first, second = _starts(effects)
    assert (first.slow, first.attempt, first.done_well, first.failed_last) == (False, 1, (), ())
    assert (second.slow, second.attempt) == (True, 2)
    assert second.done_well == ("blink",) and second.failed_last == ("turn_left",)
    assert m.is_slow(s, RULES)
    # The slow ceiling applies: still in liveness after the standard 30 s, timed out at 90.
    s, effects = run([m.Tick(6.2 + 31.0)], session=s)
    assert s.phase is m.Phase.LIVENESS and not decisions(effects)
    s, effects = run([m.Tick(6.2 + 90.0)], session=s)
    assert decisions(effects) == [("timeout", ("liveness_timeout",), 2)]
    assert dict(next(e for e in effects if isinstance(e, m.Decide)).challenge)["pace"] == "slow"


def test_a_slow_kiosk_is_slow_from_the_first_attempt():
    rules = m.Rules(**{**{f: getattr(RULES, f) for f in RULES.__dataclass_fields__},
                       "pace": "slow"})  # fmt: skip
    _, effects = run([identify(), *good_frames(1.0)], rules)
    assert _starts(effects)[0].slow
    shows = [e for e in effects if isinstance(e, m.Show) and e.state == "challenge"]
    assert shows[0].countdown_s == rules.slow_liveness_timeout_s


def test_a_pass_after_guidance_keeps_the_counter_in_the_record():
    events = [identify(), *good_frames(1.0),
              m.LivenessDone(3.0, "live", 0.9, (), 1, 0, ("nod",), ()), m.MatchDone(3.1, True, 0.7)]
    _, effects = run(events)
    (decide,) = [e for e in effects if isinstance(e, m.Decide)]
    assert decide.decision == "pass" and dict(decide.challenge)["retry_guidance"] == 1
