"""Words the kiosk shows and speaks beyond the session's messages: result screens and worker mode.

Message codes and their (zh_CN, en) texts come from `device.messages.catalogue()`; this module adds
what only the screen needs (the next step after a decision, the consent wording) in one place so
that the page and the voice say the same thing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from device.messages import catalogue
from device.ui.languages import LANGUAGES, in_language

log = logging.getLogger(__name__)

Catalogue = Mapping[str, tuple[str, str]]

MAX_REASONS = 2
WINDOW_ZH = "请到就近的社保服务窗口办理"
WINDOW_EN = "Please go to the nearest social security service window"
ALTERNATIVE_ZH = "请到就近的社保服务窗口人工认证，或预约工作人员上门认证。"
ALTERNATIVE_EN = ("Please go to the nearest social security service window to be verified in "
                  "person, or book a home visit by staff.")

# The consent notice (the kiosk's consent screen and the worker's form). Change NOTICE_VERSION
# with every change of its words: records carry the version the person accepted, and
# tests/unit/ui/test_ui_languages.py checks NOTICE_SHA256 against the words.
NOTICE_VERSION = "2026-12-03.1"
NOTICE_SHA256 = "17755bf0410af9e1ee0d826a2d7ce63e5ddd9a7769303a14351576f7401487e7"
NOTICE: dict[str, str] = {
    "title_zh": "是否同意进行人脸识别认证？",
    "body_zh": "本次认证将拍摄您的面部，仅用于本年度养老金资格认证。照片只在本机比对，不保存、"
    "不外传，只上报认证结果。您也可以不同意：不同意的，可以到社保服务窗口人工认证，"
    "或预约工作人员上门认证。",
    "body_en": "Your face will be photographed only for this year's pension check. The photo is "
    "compared on this machine only, neither kept nor sent; only the result is reported. You may "
    "say no: then you can be verified in person at a social security service window, or book a "
    "home visit by staff.",
    "how_zh": "如果同意，请按同意按钮；如果不同意，请按不同意按钮。",
    "spoken_yue": "是否同意做人脸识别认证？今次认证会影你块面，只会用嚟今年嘅养老金资格认证。"
    "相片只喺部机度比对，唔会保存、唔会传出去，只会上报认证结果。你可以唔同意：唔同意嘅话，"
    "可以去社保服务窗口人工认证，或者预约工作人员上门认证。如果同意，请撳同意掣；"
    "如果唔同意，请撳唔同意掣。",
}


def notice_digest() -> str:
    """sha256 over the notice's words, in a fixed order."""
    words = "\n".join(f"{key}={NOTICE[key]}" for key in sorted(NOTICE))
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


def spoken_notice(language: str) -> str:
    """The notice read aloud when the consent screen appears."""
    if language == "yue":
        return NOTICE["spoken_yue"]
    return NOTICE["title_zh"] + NOTICE["body_zh"] + NOTICE["how_zh"]


@dataclass(frozen=True, slots=True)
class ResultText:
    icon: str  # ok | warn | window | clock | stop
    title_zh: str
    title_en: str
    next_zh: str
    next_en: str


RESULTS: dict[str, ResultText] = {
    "pass": ResultText(
        "ok", "认证成功", "Verification passed",
        "本年度养老金资格认证已完成，请取回身份证。",
        "This year's pension eligibility check is complete. Please take your ID card.",
    ),
    "fail": ResultText(
        "warn", "认证未通过", "Not verified",
        "请按提示调整后重新插卡认证；如仍不成功，" + WINDOW_ZH + "。",
        "Please follow the advice and insert your card again; if it still fails, "
        + WINDOW_EN.lower() + ".",
    ),
    "refer": ResultText(
        "window", WINDOW_ZH, WINDOW_EN,
        "本次无法自动完成认证，工作人员将为您人工核实身份。",
        "This check could not be completed here; staff will verify your identity in person.",
    ),
    "timeout": ResultText(
        "clock", "认证超时", "Timed out",
        "请取回身份证，重新插卡再试一次。",
        "Please take your ID card and insert it again to try once more.",
    ),
    "no_reference": ResultText(
        "window", "暂无您的认证照片", "No reference photo on file",
        WINDOW_ZH + "。",
        WINDOW_EN + ".",
    ),
    "cancelled": ResultText(
        "stop", "认证已取消", "Cancelled",
        "如需认证，请重新插入身份证。",
        "To verify, please insert your ID card again.",
    ),
    "declined": ResultText(
        "window", "已记录您不使用人脸识别", "Noted: no face verification",
        ALTERNATIVE_ZH, ALTERNATIVE_EN,
    ),
}

PAGE: dict[str, str] = {
    "title_zh": "养老金资格认证",
    "title_en": "Pension eligibility check",
    "idle_zh": "请将身份证放在读卡区",
    "idle_en": "Please place your ID card on the reader",
    "offline_zh": "连接中断，正在重新连接…",
    "offline_en": "Connection lost, reconnecting…",
    "countdown_zh": "还剩 {n} 秒",
    "countdown_en": "{n} s left",
    "progress_zh": "已完成 {n}%",
    "no_preview_zh": "正在打开摄像头…",
    "reason_heading_zh": "原因：",
    "next_heading_zh": "下一步：",
    "worker_title_zh": "工作人员录入",
    "worker_title_en": "Staff entry",
    "operator_label_zh": "请输入工作人员工号",
    "operator_label_en": "Operator ID",
    "id_label_zh": "请输入被认证人身份证号码（18位）",
    "id_label_en": "ID number of the person (18 characters)",
    "next_button_zh": "确定",
    "back_button_zh": "返回",
    "delete_button_zh": "删除",
    "bad_operator_zh": "工号应为 1 至 20 位数字或字母",
    "bad_id_zh": "身份证号码有误，请核对后重新输入",
    "consent_title_zh": NOTICE["title_zh"],
    "consent_body_zh": NOTICE["body_zh"],
    "consent_body_en": NOTICE["body_en"],
    "helper_zh": "有人陪同帮我",
    "helper_en": "Someone is helping me",
    "helper_on_zh": "已选：有人陪同",
    "helper_banner_zh": "陪同人员请离开镜头",
    "language_label_zh": "请选择语音",
    "agree_zh": "同意进行人脸识别认证",
    "agree_en": "I agree to face verification",
    "decline_zh": "不同意，改用其他方式认证",
    "decline_en": "I do not agree, use another way",
    "sent_zh": "已提交，请面向屏幕，按提示操作",
    "declined_zh": "已记录您不使用人脸识别。" + WINDOW_ZH + "，或由工作人员为您人工认证。",
    "declined_en": "Noted: no face verification. " + WINDOW_EN + ", or staff will verify you "
    "in person.",
    "send_failed_zh": "提交失败，请稍后再试",
    "new_person_zh": "录入下一位",
}


def result_screen(
    decision: str, reasons: list[str], catalogue: Catalogue
) -> dict[str, Any]:
    """What the result screen shows for a decision: icon, title, reasons and the next step."""
    text = RESULTS.get(decision, RESULTS["fail"])
    shown = []
    for code in reasons:
        zh, en = catalogue.get(code, ("", ""))
        if zh:
            shown.append({"code": code, "zh": zh, "en": en})
    return {
        "icon": text.icon,
        "title_zh": text.title_zh,
        "title_en": text.title_en,
        "next_zh": text.next_zh,
        "next_en": text.next_en,
        # at most two reasons: more is more than a worried person can take in at once
        # none after a pass or a refusal: the title says it all
        "reasons": shown[:MAX_REASONS] if decision not in ("pass", "declined") else [],
    }


def spoken_result(screen: Mapping[str, Any], language: str = "cmn") -> str:
    """The sentence the voice says for a result screen, in `language`."""
    parts = [str(screen["title_zh"])]
    parts += [str(reason["zh"]) for reason in screen.get("reasons", [])]
    parts.append(str(screen["next_zh"]))
    return in_language("。".join(part.rstrip("。") for part in parts) + "。", language)


def load_catalogue() -> dict[str, tuple[str, str]]:
    """The message catalogue of device.messages (session and liveness codes)."""
    return dict(catalogue())


def all_spoken_texts(catalogue: Catalogue, language: str = "cmn") -> dict[str, str]:
    """Every sentence the kiosk may speak in `language`, keyed by message code,
    `result.<decision>` or `ui.<name>`."""
    texts = {code: in_language(zh, language) for code, (zh, _en) in catalogue.items() if zh}
    for decision in RESULTS:
        texts[f"result.{decision}"] = spoken_result(
            result_screen(decision, [], catalogue), language)
    texts["ui.idle"] = in_language(PAGE["idle_zh"], language)
    texts["ui.consent"] = spoken_notice(language)
    texts["ui.declined"] = in_language(PAGE["declined_zh"], language)
    texts["ui.language"] = LANGUAGES[language].chosen
    return texts
