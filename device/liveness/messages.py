"""Liveness prompt and reason codes -> (zh-CN, en); merged by device.messages.catalogue()."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

Message = tuple[str, str]

_PROMPTS: dict[str, Message] = {
    "liveness_look_at_screen": ("请正视屏幕，保持不动", "Please look at the screen and hold still"),
    "liveness_hold_still": ("请保持不动", "Please hold still"),
    "liveness_blink": ("请眨眨眼", "Please blink"),
    "liveness_turn_left": ("请向左转头", "Please turn your head to your left"),
    "liveness_turn_right": ("请向右转头", "Please turn your head to your right"),
    "liveness_nod": ("请点点头", "Please nod"),
    "liveness_open_mouth": ("请张张嘴", "Please open your mouth"),
    "liveness_face_front": ("请回正，看屏幕", "Please face the screen again"),
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


def action_prompt(action: str) -> str:
    """The prompt code for a challenge action."""
    return f"liveness_{action}"
