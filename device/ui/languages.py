"""The languages the kiosk speaks: which espeak-ng voice says each, and what it says.

The screen always shows Mandarin in large characters; the voice speaks the language the person
(or the worker) chose with the language button, by default the kiosk's region's. Cantonese is
spoken from colloquial written Cantonese where it differs from the Mandarin text (`CANTONESE`,
keyed by the Mandarin text it replaces); any other text is the standard written Chinese, which
espeak-ng's Cantonese voice reads with Cantonese sounds, as announcements in Cantonese do.

espeak-ng 1.51 (Debian 12): its `cmn` voice reads the pinyin of its own dictionary as English
("请" comes out as "king three"), so Mandarin is spoken with `cmn-latn-pinyin`; its Hakka voice
`hak` has no character dictionary (every character is read as "Chinese letter"), so Hakka is not
offered until texts in romanised Hakka exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LanguageCode = Literal["cmn", "yue"]


@dataclass(frozen=True, slots=True)
class Language:
    code: LanguageCode
    espeak_voice: str
    button_zh: str  # what the language button says, in that language's own words
    chosen: str  # what the voice says once it is chosen, in that language


LANGUAGES: dict[str, Language] = {
    "cmn": Language("cmn", "cmn-latn-pinyin", "普通话", "您选择了普通话"),
    "yue": Language("yue", "yue", "粤语", "你拣咗广东话"),
}

# Administrative division code prefixes (GB/T 2260) whose kiosks default to a dialect; the
# longest matching prefix wins, and only when that language is among `ui.voice_languages`.
REGION_LANGUAGES: dict[str, str] = {
    "44": "yue",  # Guangdong
    "81": "yue",  # Hong Kong
    "82": "yue",  # Macao
}

CANTONESE: dict[str, str] = {
    # session flow
    "请将身份证放在读卡区": "请将身份证放喺读卡区",
    "已读取身份证，请看摄像头": "读咗身份证，请望住摄像头",
    "需要本人同意后才能进行人脸认证": "要本人同意先可以做人脸认证",
    "很好，请保持不动": "好好，请唔好喐",
    "请按提示做动作": "请跟住提示做动作",
    "正在比对，请稍候": "比对紧，请等一阵",
    "未通过，请再试一次": "未通过，请再试多一次",
    "暂停服务，请到窗口办理": "暂停服务，请去窗口办理",
    "请陪同人员离开镜头，只留本人在画面中": "陪同嘅人请离开镜头，画面入面只留返本人",
    "请按提示做动作，陪同人员请离开镜头": "请跟住提示做动作，陪同嘅人请离开镜头",
    # quality guidance
    "未检测到人脸，请正对摄像头": "睇唔到人脸，请正面对住摄像头",
    "请确保画面中只有一个人": "请确保画面入面得一个人",
    "请靠近一些": "请行近啲",
    "请稍微后退": "请退后少少",
    "请将脸部移到框内中央": "请将块面移到框入面正中间",
    "请正对摄像头，露出完整面部": "请正面对住摄像头，露出成块面",
    "光线太暗，请到明亮处": "光线太暗，请去光啲嘅地方",
    "背光太强，请不要背对窗户或灯光": "背光太强，请唔好背住窗口或者灯光",
    "图像模糊，请保持不动": "图像模糊，请唔好喐",
    "请不要侧脸，正对摄像头": "请唔好侧住块面，正面对住摄像头",
    "请不要抬头或低头": "请唔好抬头或者耷低头",
    "请不要歪头": "请唔好侧住个头",
    "请睁开眼睛": "请擘大眼",
    "请摘下墨镜": "请除低墨镜",
    "请摘下口罩": "请除低口罩",
    "请摘下帽子，露出额头": "请除低帽，露出额头",
    "请保持不动": "请唔好喐",
    # liveness prompts
    "请正视屏幕，保持不动": "请望住屏幕，唔好喐",
    "请眨眨眼": "请眨下眼",
    "请向左转头": "请向左边转头",
    "请向右转头": "请向右边转头",
    "请点点头": "请点下头",
    "请张张嘴": "请擘开口",
    "请回正，看屏幕": "请转返正，望住屏幕",
    "画面中的人已更换": "画面入面嘅人换咗",
    "人脸离开画面": "人脸离开咗画面",
    # results
    "请到就近的社保服务窗口办理": "请去最近嘅社保服务窗口办理",
    "本年度养老金资格认证已完成，请取回身份证": "今年嘅养老金资格认证已经完成，请拎返身份证",
    "本次无法自动完成认证，工作人员将为您人工核实身份":
        "今次冇办法自动完成认证，工作人员会帮你人工核实身份",
    "请取回身份证，重新插卡再试一次": "请拎返身份证，重新插卡再试多一次",
    "暂无您的认证照片": "暂时冇你嘅认证相",
    "如需认证，请重新插入身份证": "如果要认证，请重新插入身份证",
    "已记录您不使用人脸识别": "已经记低你唔用人脸识别",
    "未找到您的认证照片，请到社保服务窗口登记": "揾唔到你嘅认证相，请去社保服务窗口登记",
}


def default_language(offered: tuple[str, ...], region: str) -> str:
    """The language a session starts in: the region's dialect if offered, else the first."""
    for length in range(len(region), 1, -1):
        found = REGION_LANGUAGES.get(region[:length])
        if found in offered:
            return found
    return offered[0]


def in_language(text_zh: str, language: str) -> str:
    """The words to speak for a Mandarin text in `language` (sentence by sentence)."""
    if language != "yue":
        return text_zh
    sentences = [part for part in text_zh.split("。") if part]
    spoken = [CANTONESE.get(part, part) for part in sentences]
    return "。".join(spoken) + ("。" if text_zh.endswith("。") else "")
