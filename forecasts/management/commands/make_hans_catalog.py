"""Write the Simplified Chinese catalog from the Traditional one.

    python manage.py make_hans_catalog

zh-Hans is not translated separately: every msgstr of forecasts/locale/zh_Hant is converted with OpenCC's
Hong Kong → mainland profile (hk2s, phrase-aware), then the reviewed REVIEWED replacements below fix the
words where mainland usage differs from a character-by-character conversion. Run it after editing the
zh-Hant catalog (``make messages`` does both and compiles).
"""

from __future__ import annotations

import re
from pathlib import Path

import opencc
from django.conf import settings
from django.core.management.base import BaseCommand

# Reviewed: where a mainland reader says it differently from the converted Hong Kong word.
REVIEWED: dict[str, str] = {
    "标普500指数": "标普500指数",
    "恒生中国企业指数": "恒生中国企业指数",
    "资讯": "信息",
    "网页": "网页",
    "滙": "汇",
    "登入": "登录",
    "登出": "退出登录",
    "设定": "设置",
    "档案": "文件",
    "程式": "程序",
    "预设": "默认",
    "连结": "链接",
    "支援": "支持",
    "伺服器": "服务器",
    "资料": "数据",
    "讯息": "消息",
}

_MSGSTR = re.compile(r'^(msgstr(?:\[\d+\])?\s+)"(.*)"$')
_CONTINUATION = re.compile(r'^"(.*)"$')


def convert_catalog(text: str) -> str:
    converter = opencc.OpenCC("hk2s")

    def simplify(value: str) -> str:
        out = converter.convert(value)
        for old, new in REVIEWED.items():
            out = out.replace(old, new)
        return out

    lines, in_msgstr = [], False
    for line in text.splitlines():
        m = _MSGSTR.match(line)
        if m:
            in_msgstr = True
            line = f'{m.group(1)}"{simplify(m.group(2))}"'
        elif in_msgstr and (c := _CONTINUATION.match(line)):
            line = f'"{simplify(c.group(1))}"'
        else:
            in_msgstr = False
        lines.append(line)
    out = "\n".join(lines) + "\n"
    return out.replace('"Language: zh_Hant\\n"', '"Language: zh_Hans\\n"')


class Command(BaseCommand):
    help = "Write forecasts/locale/zh_Hans/LC_MESSAGES/django.po from the zh_Hant catalog with OpenCC."

    def handle(self, *args, **options):
        locale = Path(settings.BASE_DIR) / "forecasts" / "locale"
        source = locale / "zh_Hant" / "LC_MESSAGES" / "django.po"
        target = locale / "zh_Hans" / "LC_MESSAGES" / "django.po"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(convert_catalog(source.read_text(encoding="utf-8")), encoding="utf-8")
        self.stdout.write(f"wrote {target.relative_to(settings.BASE_DIR)}")
