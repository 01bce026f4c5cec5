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

from django.conf import settings
from django.core.management.base import BaseCommand

from marketdata.names import to_simplified

# Reviewed: where a mainland reader says it differently from the converted Hong Kong word. Applied in this
# order after OpenCC, on msgstrs only; keep each one a word a mainland financial page really uses.
REVIEWED: dict[str, str] = {
    # general UI words
    "资讯": "信息",
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
    "汇入": "导入",
    "撷取": "抓取",
    "贴上": "粘贴",
    "栏位": "字段",
    "储存": "保存",
    "杂凑": "哈希",
    "金钥": "密钥",
    "帐本": "账本",
    # market words: the mainland press says 收盘/开盘, 波动率, 收益率, 审计师
    "收市": "收盘",
    "开市": "开盘",
    "波幅": "波动率",
    "对数回报": "对数收益率",
    "核数师": "审计师",
    "往绩": "过往业绩",
    "稳阵": "稳妥",
}

_MSGSTR = re.compile(r'^(msgstr(?:\[\d+\])?\s+)"(.*)"$')
_CONTINUATION = re.compile(r'^"(.*)"$')


def convert_catalog(text: str) -> str:
    """The catalog with every msgstr simplified. A msgstr wrapped over several lines is joined first (on one
    line), so that a word the wrapping split is still converted and reviewed whole."""

    def simplify(value: str) -> str:
        out = to_simplified(value)
        for old, new in REVIEWED.items():
            out = out.replace(old, new)
        return out

    lines: list[str] = []
    source = text.splitlines()
    i = 0
    while i < len(source):
        line = source[i]
        i += 1
        m = _MSGSTR.match(line)
        if not m:
            lines.append(line)
            continue
        block, value = [line], m.group(2)
        while i < len(source) and (c := _CONTINUATION.match(source[i])):
            block.append(source[i])
            value += c.group(1)
            i += 1
        if not value or "Content-Type:" in value:  # untranslated, or the header: as it is
            lines.extend(block)
            continue
        lines.append(f'{m.group(1)}"{simplify(value)}"')
    out = "\n".join(lines) + "\n"
    out = out.replace('"Language: zh_Hant\\n"', '"Language: zh_Hans\\n"')
    out = out.replace('"Language-Team: zh-Hant\\n"', '"Language-Team: zh-Hans\\n"')
    return out.replace(
        "# Hindsight public site: Traditional Chinese (zh-Hant).",
        "# Hindsight public site: Simplified Chinese (zh-Hans), made by make_hans_catalog: do not edit.",
        1,
    )


class Command(BaseCommand):
    help = "Write forecasts/locale/zh_Hans/LC_MESSAGES/django.po from the zh_Hant catalog with OpenCC."

    def handle(self, *args, **options):
        locale = Path(settings.BASE_DIR) / "forecasts" / "locale"
        source = locale / "zh_Hant" / "LC_MESSAGES" / "django.po"
        target = locale / "zh_Hans" / "LC_MESSAGES" / "django.po"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(convert_catalog(source.read_text(encoding="utf-8")), encoding="utf-8")
        self.stdout.write(f"wrote {target.relative_to(settings.BASE_DIR)}")
