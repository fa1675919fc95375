"""Simulator scripts: loading, validation and the card timeline; the demo script's cards."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from device.cardreader.card import decode_card, validate_card
from device.cardreader.idnumber import CardRejected, Reason
from device.cardreader.sim_script import SimScript, demo_script_path, load_script
from device.errors import CardReaderError


def test_demo_script_cards_are_valid_except_the_expired_one() -> None:
    script = load_script(demo_script_path())
    cards = [step.card for step in script.steps if step.card is not None]
    assert len(cards) >= 3
    outcomes = []
    for sim_card in cards:
        card = decode_card(sim_card.text_block(), sim_card.photo_block())
        try:
            validate_card(card, dt.date(2026, 11, 25))
            outcomes.append("valid")
        except CardRejected as exc:
            outcomes.append(exc.reason.value)
    assert outcomes.count("valid") == 2 and Reason.EXPIRED.value in outcomes


def test_timeline_repeats_and_holds(fields: dict[str, str]) -> None:
    data = {"steps": [{"absent_s": 1}, {"card": fields, "present_s": 2}]}
    script = SimScript.model_validate(data)
    assert script.state_at(0.5)[1] is None
    assert script.state_at(1.5)[1] is not None
    assert script.state_at(3.5) == (2, None)  # second cycle, first step
    held = SimScript.model_validate({**data, "repeat": False})
    assert held.state_at(100.0)[1] is not None


def test_toml_scripts_load(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('repeat = false\n[[steps]]\nabsent_s = 1\n[[faults]]\nkind = "split"\n')
    script = load_script(path)
    assert script.faults[0].kind == "split" and not script.repeat


@pytest.mark.parametrize(
    "text",
    [
        '{"steps": []}',
        '{"steps": [{"absent_s": 1, "present_s": 1}]}',
        '{"steps": [{"absent_s": 1}], "faults": [{"kind": "explode"}]}',
        '{"steps": [{"absent_s": 1}], "colour": "red"}',
        "not json",
    ],
)
def test_bad_scripts_are_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CardReaderError, match=r"bad\.json"):
        load_script(path)


def test_synthetic_photo_is_deterministic_and_sized(fields: dict[str, str]) -> None:
    script = SimScript.model_validate({"steps": [{"card": fields, "present_s": 1}]})
    card = script.steps[0].card
    assert card is not None
    assert len(card.photo_block()) == 1024 and card.photo_block() == card.photo_block()
