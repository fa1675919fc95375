"""Liveness prompt and reason codes -> (zh-CN, en); merged by device.messages.catalogue()."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

Message = tuple[str, str]
ACTIONS = ("blink", "turn_left", "turn_right", "nod", "open_mouth")

_PROMPTS: dict[str, Message] = {
    "liveness_look_at_screen": ("请正视屏幕，保持不动", "Please look at the screen and hold still"),
    "liveness_hold_still": ("请保持不动", "Please hold still"),
    "liveness_blink": ("请眨眨眼", "Please blink"),
    "liveness_turn_left": ("请向左转头", "Please turn your head to your left"),
    "liveness_turn_right": ("请向右转头", "Please turn your head to your right"),
    "liveness_nod": ("请点点头", "Please nod"),
    "liveness_open_mouth": ("请张张嘴", "Please open your mouth"),
    "liveness_face_front": ("请回正，看屏幕", "Please face the screen again"),
    # Clearer cues after a re-prompt (confusion is not an attack): the side named as the
    # person's own hand side, the action spelt out slowly.
    "liveness_turn_left_clear": (
        "请向您的左手边转头", "Please turn your head towards your left hand side"),
    "liveness_turn_right_clear": (
        "请向您的右手边转头", "Please turn your head towards your right hand side"),
    "liveness_blink_clear": (
        "请慢慢闭一下眼睛，再睁开", "Please close your eyes slowly, then open them"),
    "liveness_nod_clear": (
        "请慢慢低一下头，再抬起来", "Please lower your head slowly, then raise it"),
    "liveness_open_mouth_clear": (
        "请把嘴张大，再合上", "Please open your mouth wide, then close it"),
    "liveness_try_again": (
        "没关系，我们再做一次，请先看屏幕",
        "That is all right, let us do it once more: look at the screen first",
    ),
    "liveness_second_face": (
        "请陪同的人暂时离开画面，画面里只留您一人",
        "Please ask the person helping you to step out of the picture for a moment",
    ),
}

_REASONS: dict[str, Message] = {
    "liveness_live": ("活体检测通过", "Liveness confirmed"),
    "challenge_passed": ("动作检测通过", "All actions done"),
    "challenge_timeout": ("动作未在规定时间内完成", "An action was not done in time"),
    "challenge_wrong_action": ("动作与提示不符", "The movement did not match the prompt"),
    "challenge_too_early": ("动作早于提示", "The movement came before the prompt"),
    "baseline_unstable": ("请保持不动后再试", "Could not measure a steady face"),
    "face_lost": ("人脸离开画面", "The face left the picture"),
    "track_broken": ("画面中的人脸发生跳变", "The face jumped in the picture"),
    "identity_changed": ("画面中的人已更换", "A different person appeared"),
    "flash_not_reflected": ("屏幕闪光未在面部反射", "The screen light did not reflect on the face"),
    "flash_insufficient": ("闪光检测数据不足", "Too little data for the light check"),
    "planar_motion": ("人脸转动时呈平面，疑似照片或屏幕", "The face moved like a flat picture"),
    "passive_moire": ("检测到屏幕纹理", "Screen pattern detected"),
    "passive_frame_edges": ("检测到屏幕或照片边框", "Screen or photo edges detected"),
    "passive_glare": ("检测到反光", "Glare detected"),
    "antispoof_model": ("防伪模型判定为攻击", "The anti-spoofing model flagged an attack"),
}


def catalogue() -> Mapping[str, Message]:
    """Every liveness code (prompts and reasons)."""
    return MappingProxyType({**_PROMPTS, **_REASONS})


def action_prompt(action: str, clear: bool = False) -> str:
    """The prompt code for a challenge action (its clearer cue when `clear`)."""
    return f"liveness_{action}_clear" if clear else f"liveness_{action}"


def prompt_action(code: str | None) -> str | None:
    """The challenge action a prompt code asks for (its plain or clearer cue), else None."""
    if not code or not code.startswith("liveness_"):
        return None
    action = code.removeprefix("liveness_").removesuffix("_clear")
    return action if action in ACTIONS else None
