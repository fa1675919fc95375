"""99-faceterm-idcard.rules: well-formed rules giving the reader a stable /dev/idcard."""

from __future__ import annotations

import re
from pathlib import Path

RULES = Path(__file__).resolve().parents[3] / "systemd" / "99-faceterm-idcard.rules"
TOKEN_RE = re.compile(r'\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')
MATCH_KEYS = {"SUBSYSTEM", "ACTION", "ATTRS{idVendor}", "ATTRS{idProduct}"}
ASSIGN_KEYS = {"GOTO", "LABEL", "SYMLINK", "GROUP", "MODE", "TAG", "ENV{ID_MM_DEVICE_IGNORE}"}


def parse(line: str) -> list[tuple[str, str, str]]:
    tokens, position = [], 0
    while position < len(line):
        match = TOKEN_RE.match(line, position)
        assert match, f"cannot parse {line[position:]!r} in {line!r}"
        tokens.append((match.group(1), match.group(2), match.group(3)))
        position = match.end()
    return tokens


def rules() -> list[list[tuple[str, str, str]]]:
    lines = RULES.read_text(encoding="utf-8").splitlines()
    return [parse(line) for line in lines if line.strip() and not line.startswith("#")]


def test_every_rule_is_well_formed_and_every_goto_has_its_label() -> None:
    parsed = rules()
    labels = {value for rule in parsed for key, _, value in rule if key == "LABEL"}
    gotos = {value for rule in parsed for key, _, value in rule if key == "GOTO"}
    assert gotos == labels == {"faceterm_idcard", "faceterm_idcard_end"}
    for rule in parsed:
        for key, operator, _ in rule:
            assert key in MATCH_KEYS | ASSIGN_KEYS, key
            assert (operator in {"==", "!="}) == (key in MATCH_KEYS), (key, operator)


def test_common_usb_serial_bridges_get_the_symlink_with_dialout_0660() -> None:
    ids = set()
    for rule in rules():
        fields = {key: value for key, _, value in rule}
        if "ATTRS{idVendor}" in fields:
            assert re.fullmatch(r"[0-9a-f]{4}", fields["ATTRS{idVendor}"])
            assert re.fullmatch(r"[0-9a-f]{4}", fields["ATTRS{idProduct}"])
            ids.add((fields["ATTRS{idVendor}"], fields["ATTRS{idProduct}"]))
        if fields.get("SYMLINK") == "idcard":
            assert (fields["GROUP"], fields["MODE"]) == ("dialout", "0660")
            assert fields["ENV{ID_MM_DEVICE_IGNORE}"] == "1"
    # CH340, PL2303, CP2102
    assert {("1a86", "7523"), ("067b", "2303"), ("10c4", "ea60")} <= ids


def test_vendor_template_line_is_commented_out() -> None:
    text = RULES.read_text(encoding="utf-8")
    assert '#ATTRS{idVendor}=="vvvv", ATTRS{idProduct}=="pppp", GOTO="faceterm_idcard"' in text
