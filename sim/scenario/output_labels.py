"""Output names in words, for figures, tables and the page: one table, in English and Chinese.

Every output of :mod:`sim.scenario.output_names` has a label here: what it measures in words,
its unit, and which way is better. Names made from a level, a task, a strategy or a relay
option (``sanction_share_county``, ``goal_attainment[environment]``, ``share_falsify_motivated``)
are labelled from their parts, so a new level or task needs no entry. :func:`label` is what
figures call; a test checks that every output a model can report has a label that is not
its own snake_case name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.scenario.output_names import (
    CHOSEN_INFLATION,
    ESCALATION_LEVEL_PREFIX,
    LEVEL_GAP_PREFIX,
    MOTIVATION_TYPES,
    SHIELD_SHARE,
    split_task_output,
)

LANGUAGES = ("en", "zh")
"""The languages labels come in."""


@dataclass(frozen=True)
class Label:
    """One output in words.

    Attributes:
        en: English.
        zh: Chinese.
        unit: The unit, in English (``share``, ``× original target``, ...); Chinese units follow it.
        better: ``higher``, ``lower`` or ``""`` (reported, not judged).
    """

    en: str
    zh: str
    unit: str = "share"
    better: str = ""


UNITS_ZH = {
    "share": "比例",
    "× original target": "× 原定目标",
    "share of capacity": "占能力比例",
    "per unit": "每单位",
    "per inspection": "每次检查",
    "factor": "倍数",
    "severity": "严重程度",
}

LABELS: dict[str, Label] = {
    "goal_attainment": Label("goal attainment", "目标实际完成度", better="higher"),
    "reported_attainment": Label("reported attainment", "上报完成度"),
    "implementation_gap": Label("implementation gap (reported − real)", "执行落差(上报−实际)", better="lower"),
    "escalation_at_bottom": Label("target at the grassroots", "基层所受目标", "× original target", "lower"),
    "clarity_at_bottom": Label("clarity at the grassroots", "基层所见清晰度", better="higher"),
    "burden": Label("burden at the grassroots", "基层负担", "share of capacity", "lower"),
    "wrongful_sanction_rate": Label("wrongful sanctions", "错误问责比例", better="lower"),
    "collateral_harm": Label("collateral harm of bans", "一刀切附带损害", "per unit", "lower"),
    "capacity_share": Label("capacity given to the task", "投入该任务的能力", "share of capacity"),
    "sanction_severity": Label("sanction severity", "问责严重程度", "severity", "lower"),
    CHOSEN_INFLATION: Label("report inflation chosen", "所选注水幅度", "factor", "lower"),
    SHIELD_SHARE: Label("superiors shielding", "庇护下级的上级比例", better="lower"),
    "middle_sanction_rate": Label("sanctions of relay work", "中层问责率", "per inspection"),
    "inspection_factor": Label("the top's inspection factor", "上级检查倍数", "factor"),
    "target_factor": Label("the top's target factor", "上级目标倍数", "factor"),
}
"""The outputs whose names are not made from parts."""

STRATEGY_WORDS = {
    "substantive": ("substantive work", "实干"),
    "formalism": ("formalism", "形式主义"),
    "falsify": ("falsification", "数据造假"),
    "blanket_ban": ("blanket bans", "一刀切"),
    "innovate": ("innovation", "创新"),
    "shirk": ("shirking", "躺平"),
}
STRATEGY_BETTER = {"substantive": "higher", "innovate": "higher"}
TYPE_WORDS = {"motivated": ("motivated officials", "高动机官员"), "unmotivated": ("less motivated", "低动机官员")}
RELAY_WORDS = {"pass_on": ("passing on", "照转"), "clarify": ("clarifying", "细化"), "escalate": ("escalating", "加码")}
LEVEL_WORDS = {
    "centre": "中央",
    "province": "省",
    "municipality": "市",
    "municipal": "市",
    "county": "县",
    "township": "乡镇",
    "village": "村",
}


def describe_output(name: str) -> Label:
    """The label of any output name, built from its parts where it has them."""
    base, task = split_task_output(name)
    found = _base_label(base)
    if task is None:
        return found
    return Label(f"{found.en}: {task}", f"{found.zh}:{task}", found.unit, found.better)


def _base_label(name: str) -> Label:
    if name in LABELS:
        return LABELS[name]
    for kind in MOTIVATION_TYPES:
        if name.endswith(f"_{kind}") and name.startswith(("share_", "sanction_rate_")):
            inner = _base_label(name[: -len(kind) - 1]) if name.startswith("share_") else None
            en, zh = TYPE_WORDS[kind]
            if inner is None:
                return Label(f"sanction rate of {en}", f"{zh}问责率", "per unit", "lower")
            return Label(f"{inner.en} ({en})", f"{inner.zh}({zh})", inner.unit, inner.better)
    if name.startswith("share_") and name[6:] in STRATEGY_WORDS:
        en, zh = STRATEGY_WORDS[name[6:]]
        return Label(f"share {en}", f"{zh}比例", better=STRATEGY_BETTER.get(name[6:], "lower"))
    if name.startswith("sanction_share_"):
        level = name[len("sanction_share_") :]
        return Label(f"sanctions on the {level} level", f"{_level_zh(level)}级所受问责比例")
    if name.startswith("relay_share_") and name[12:] in RELAY_WORDS:
        en, zh = RELAY_WORDS[name[12:]]
        return Label(f"relays {en}", f"中层{zh}比例")
    if name.startswith(LEVEL_GAP_PREFIX):
        level = name[len(LEVEL_GAP_PREFIX) :]
        return Label(f"gap seen by the {level} level", f"{_level_zh(level)}级所见落差", better="lower")
    if name.startswith(ESCALATION_LEVEL_PREFIX):
        level = name[len(ESCALATION_LEVEL_PREFIX) :]
        return Label(f"target at the {level} level", f"{_level_zh(level)}级所受目标", "× original target", "lower")
    words = name.replace("_", " ")
    return Label(words, words, "")


def _level_zh(level: str) -> str:
    return LEVEL_WORDS.get(level, level)


def label(name: str, language: str = "en", unit: bool = False) -> str:
    """An output's name in words, in ``en`` or ``zh``; with ``unit``, its unit in brackets (shares have none)."""
    found = describe_output(name)
    words = found.en if language == "en" else found.zh
    if not unit or found.unit in ("", "share"):
        return words
    shown = found.unit if language == "en" else UNITS_ZH.get(found.unit, found.unit)
    return f"{words} ({shown})"


def better_note(name: str, language: str = "en") -> str:
    """Which way is better, in words (``higher is better``), or ``""`` for an output that is not judged."""
    better = describe_output(name).better
    if not better:
        return ""
    if language == "en":
        return f"{better} is better"
    return "越高越好" if better == "higher" else "越低越好"


def strategy_title(label_: str, language: str = "en") -> str:
    """A strategy's name in words."""
    return STRATEGY_WORDS[label_][0 if language == "en" else 1]


PHRASES_ZH = {
    "Goal versus reported attainment": "实际与上报完成度",
    "Strategy shares at the grassroots": "基层策略构成",
    "Burden, escalation and clarity at the grassroots": "基层负担、加码与清晰度",
    "Where sanctions fall, and how many are wrongful": "问责落在哪一级,错误问责有多少",
    "Collateral harm of blanket bans per grassroots unit": "一刀切的附带损害",
    "Goal attainment by task": "各任务目标完成度",
    "Share of free capacity given to each task": "各任务所获能力比例",
    "Formalism by task": "各任务形式主义比例",
    "period": "期",
    "No period has run yet: press STEP or ▶": "尚未运行任何一期:请按 STEP 或 ▶",
    "burn-in": "预热期",
    "intended (1.0)": "原定目标(1.0)",
    "realised attainment": "实际完成度",
    "no effect": "无效果",
    "the reform's effect": "改革效果",
    "lost with every mechanism off": "所有机制关闭时的损失",
    "lost at the grassroots (intact directive)": "基层损失(指令完整到达)",
    "effect with every mechanism off": "所有机制关闭时的效果",
}
"""Figure texts in Chinese, by their English."""


def phrase(text: str, language: str = "en") -> str:
    """A figure's fixed text in ``language`` (English, or its Chinese where :data:`PHRASES_ZH` has it)."""
    return PHRASES_ZH.get(text, text) if language == "zh" else text
