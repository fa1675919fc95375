"""Every message the kiosk shows or speaks: a stable code mapped to (zh-CN, en).

Codes are part of the UI and decision-record contracts (CONTRIBUTING.md): never rename one, add a
new one instead. Liveness prompts live in device/liveness/messages.py and are merged in by
`catalogue()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from device.liveness.messages import catalogue as liveness_catalogue

Message = tuple[str, str]

# Session flow.
_SESSION: dict[str, Message] = {
    "insert_card": ("请将身份证放在读卡区", "Please place your ID card on the reader"),
    "card_read": ("已读取身份证，请看摄像头", "ID card read, please look at the camera"),
    "id_invalid": ("身份证号码无效，请核对后重新输入", "The ID number is not valid, check it"),
    "consent_required": (
        "需要本人同意后才能进行人脸认证",
        "Face verification needs the person's consent",
    ),
    "consent_notice": ("是否同意进行人脸识别认证？", "Do you agree to face verification?"),
    "helper_step_out": (
        "请陪同人员离开镜头，只留本人在画面中",
        "Would the person helping please step out of the picture",
    ),
    "liveness_assisted": (
        "请按提示做动作，陪同人员请离开镜头",
        "Please follow the instructions; the helper please stay out of the picture",
    ),
    "hold_still": ("很好，请保持不动", "Good, please hold still"),
    "liveness": ("请按提示做动作", "Please follow the instructions"),
    "matching": ("正在比对，请稍候", "Comparing, please wait"),
    "retry": ("未通过，请再试一次", "Not verified, please try once more"),
    # No session starts (and no decision is shown) while the decision could not be stored.
    "out_of_service": (
        "暂停服务，请到窗口办理",
        "Temporarily out of service, please visit a window",
    ),
}

# Quality guidance, in the order the gates are checked (the first failing gate is shown).
_QUALITY: dict[str, Message] = {
    "no_face": ("未检测到人脸，请正对摄像头", "No face found, please face the camera"),
    "multiple_faces": ("请确保画面中只有一个人", "Only one person in front of the camera, please"),
    "too_far": ("请靠近一些", "Please come a little closer"),
    "too_close": ("请稍微后退", "Please move back a little"),
    "off_centre": ("请将脸部移到框内中央", "Please move your face into the centre of the oval"),
    "face_unclear": ("请正对摄像头，露出完整面部", "Please face the camera, whole face visible"),
    "too_dark": ("光线太暗，请到明亮处", "Too dark, please move to a brighter place"),
    "too_bright": ("光线太强，请避开强光", "Too bright, please avoid strong light"),
    "backlit": (
        "背光太强，请不要背对窗户或灯光",
        "Strong backlight, do not stand against a window",
    ),
    "blurred": ("图像模糊，请保持不动", "The image is blurred, please hold still"),
    "head_turned": ("请不要侧脸，正对摄像头", "Please do not turn your head, face the camera"),
    "head_pitched": ("请不要抬头或低头", "Please keep your head level"),
    "head_tilted": ("请不要歪头", "Please keep your head straight"),
    "eyes_closed": ("请睁开眼睛", "Please open your eyes"),
    "sunglasses": ("请摘下墨镜", "Please take off your sunglasses"),
    "mask": ("请摘下口罩", "Please take off your face mask"),
    "hat": ("请摘下帽子，露出额头", "Please take off your hat"),
    "not_still": ("请保持不动", "Please hold still"),
}

# Decisions and the reasons a record carries.
_RESULTS: dict[str, Message] = {
    "pass": ("认证通过", "Verified"),
    "fail": ("认证未通过", "Not verified"),
    "refer": ("请到就近的社保服务窗口办理", "Please go to the nearest social-security window"),
    "timeout": ("操作超时，请重新开始", "Timed out, please start again"),
    "no_reference": (
        "未找到您的认证照片，请到社保服务窗口登记",
        "No reference photo on file, please register at a service window",
    ),
    "cancelled": ("已取消", "Cancelled"),
    "declined": ("已记录您不使用人脸识别", "Noted: no face verification"),
    "consent_declined": ("本人不同意人脸识别", "The person did not agree to face verification"),
    "consent_timeout": ("未收到同意与否的选择", "No answer on the consent screen"),
    "match_below_threshold": ("人脸比对未通过", "The face did not match"),
    "attempts_exhausted": ("尝试次数已用完", "No attempts left"),
    "liveness_spoof": ("未通过活体检测", "Liveness check failed"),
    "liveness_inconclusive": ("活体检测未完成", "Liveness check inconclusive"),
    # Since issue 18 an attempt that could not be completed says this (never liveness_spoof).
    "liveness_incomplete": (
        "动作没有完成，没关系，可以再试一次",
        "The actions could not be completed; you may try again",
    ),
    "identify_timeout": ("未检测到人脸", "No face arrived in time"),
    "capture_timeout": ("未能采集到合格的人脸图像", "No usable face image in time"),
    "liveness_timeout": ("活体检测超时", "The liveness check timed out"),
    "card_removed": ("身份证已移开", "The ID card was removed"),
    "worker_input": ("工作人员录入身份证号码", "ID number keyed in by a worker"),
    "camera_virtual": (
        "摄像头异常（虚拟摄像头），请联系工作人员",
        "Camera not trusted (a virtual camera), please ask staff",
    ),
    "camera_not_pinned": (
        "摄像头不是本机登记的设备，请联系工作人员",
        "This is not the kiosk's registered camera, please ask staff",
    ),
    "camera_changed": (
        "摄像头已被更换，请联系工作人员",
        "The camera was swapped, please ask staff",
    ),
}

QUALITY_CODES: tuple[str, ...] = tuple(_QUALITY)
DECISIONS: tuple[str, ...] = (
    "pass", "fail", "refer", "timeout", "no_reference", "cancelled", "declined")


def own_messages() -> Mapping[str, Message]:
    """The session's own codes (without liveness prompts)."""
    return MappingProxyType({**_SESSION, **_QUALITY, **_RESULTS})


def catalogue() -> Mapping[str, Message]:
    """Every code: the session's and the liveness package's prompts and reasons."""
    merged = dict(own_messages())
    for code, pair in liveness_catalogue().items():
        merged.setdefault(code, pair)
    return MappingProxyType(merged)


def text(code: str, table: Mapping[str, Message] | None = None) -> Message:
    """(zh-CN, en) for code; an unknown code comes back as itself in both languages."""
    found = (table if table is not None else own_messages()).get(code)
    return found if found is not None else (code, code)
