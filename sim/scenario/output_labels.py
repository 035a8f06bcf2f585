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
    "period {steps}: grassroots by strategy{task}; size = sanctions so far": (
        "第 {steps} 期:基层单位按策略着色{task};点的大小 = 累计问责"
    ),
    "{count} {level} units, most substantive first ({grassroots} grassroots units)": (
        "{count} 个{level}单位,实质执行最多者在前(共 {grassroots} 个基层单位)"
    ),
    "share of the grassroots below": "下辖基层单位的占比",
    " within {unit}": "({unit} 内)",
    "period {steps}: strategies by {level}{within}{task}": "第 {steps} 期:各{level}的策略构成{within}{task}",
    " on {task}": "(任务:{task})",
    "burn-in": "预热期",
    "intended (1.0)": "原定目标(1.0)",
    "realised attainment": "实际完成度",
    "no effect": "无效果",
    "the reform's effect": "改革效果",
    "lost with every mechanism off": "所有机制关闭时的损失",
    "lost at the grassroots (intact directive)": "基层损失(指令完整到达)",
    "effect with every mechanism off": "所有机制关闭时的效果",
    "relay {name}": "{name}的传达",
    "Why {arm} changes goal attainment against {reference}": "{arm}相对于{reference}为何改变目标实际完成度",
    "Where the goal is lost ({arm}), by mechanism": "目标在哪里流失({arm}):按机制",
    "Where the goal is lost ({arm}), by level": "目标在哪里流失({arm}):按层级",
    "Where the goal is lost, by mechanism": "目标在哪里流失:按机制",
    "Where the goal is lost, by level": "目标在哪里流失:按层级",
    " (held out)": "(留出检验)",
    "higher is better": "越高越好",
    "lower is better": "越低越好",
    "reported, not judged": "仅报告,不评判",
    "Difference from {reference} (paired, 95% CI)": "与{reference}之差(配对,95% 置信区间)",
    "mean over replications per period, 95% bands": "各期重复均值,95% 置信带",
    "point": "扫描点",
    "(mean, 95% CI)": "(均值,95% 置信区间)",
    "{outcome} against {x}": "{outcome}随{x}的变化",
    "the sweep point": "扫描点",
    "{outcome} (mean over replications)": "{outcome}(重复均值)",
    "share of the output's variance": "输出方差的占比",
    "{outcome}: Sobol indices (95% CI)": "{outcome}:Sobol 指数(95% 置信区间)",
    "S1 (first order)": "S1(一阶)",
    "ST (total)": "ST(总效应)",
    "μ*: mean absolute elementary effect on {outcome} (95% CI)": "μ*:对{outcome}的平均绝对基本效应(95% 置信区间)",
    "σ: spread of the elementary effects": "σ:基本效应的离散程度",
    "{outcome}: Morris screening": "{outcome}:Morris 筛选",
    "10th-90th percentile": "第 10–90 百分位",
    "median": "中位数",
    "mean": "均值",
    "maximum": "最大值",
    "{outcome} over the futures ({note})": "{outcome}在各情景中的分布({note})",
    "regret: shortfall from the best arm in the same future\n({outcome})": (
        "遗憾值:与同一情景中最优方案的差距\n({outcome})"
    ),
    "Regret on {outcome} (box: quartiles; whiskers: 10th-90th percentile)": (
        "{outcome}的遗憾值(箱体:四分位;须:第 10–90 百分位)"
    ),
    "goal attainment (bars: mean over {n} replications; whiskers: 95% CI)": (
        "目标实际完成度(条:{n} 次重复的均值;须:95% 置信区间)"
    ),
    "difference in goal attainment (bars: mean over {n} replications; whiskers: 95% CI)": (
        "目标实际完成度之差(条:{n} 次重复的均值;须:95% 置信区间)"
    ),
    "inspections per principal per period": "每位上级每期的检查次数",
    "mean over replications (95% CI)": "重复均值(95% 置信区间)",
    "Oversight has an interior optimum (dotted: the best rate for attainment, {best})": (
        "监督存在内部最优(虚线:完成度最高的检查率,{best})"
    ),
    "μ* (target sds over the range)": "μ*(目标标准差,跨取值范围)",
    "σ (target sds)": "σ(目标标准差)",
    "screening: Morris elementary effects on each fitted target": "筛选:各拟合目标的 Morris 基本效应",
    "ruled out by the wave": "本轮排除",
    "not ruled out after it": "本轮后未排除",
    "wave": "轮次",
    "share of the parameter box": "参数空间的占比",
    "history matching": "历史匹配",
    "posterior (ABC-SMC, last generation); red: the calibrated point": "后验分布(ABC-SMC,最后一代);红色:校准点",
    "observed ± 2 sd": "观测值 ± 2 个标准差",
    "posterior predictive of an observation ± 2 sd": "观测值的后验预测 ± 2 个标准差",
    "posterior predictive checks": "后验预测检验",
    "the target's value (a share, or a ratio for escalation)": "目标取值(比例;加码为倍数)",
    "restricted parameters": "受限参数个数",
    "coverage (share of all cases in the box)": "覆盖率(方框内案例占全部案例的比例)",
    "density (share of the box that are cases)": "密度(方框内为案例的比例)",
    "PRIM peeling trajectory\n{label}": "PRIM 剥离轨迹\n{label}",
    "other futures": "其他情景",
    "cases": "案例",
    "futures": "情景数",
    "Chosen box (blue) and cases (red)\n{label}": "选定方框(蓝)与案例(红)\n{label}",
    "Chosen box (blue) and cases (red), among the {count} futures outside earlier boxes\n{label}": (
        "选定方框(蓝)与案例(红),在先前方框以外的 {count} 个情景中\n{label}"
    ),
}
"""Figure texts in Chinese, by their English (``{name}``: a value filled in, see :func:`phrase`)."""


def phrase(text: str, language: str = "en", /, **values) -> str:
    """A figure's text in ``language`` (English, or its Chinese where :data:`PHRASES_ZH` has it).

    ``values`` fill the text's ``{placeholders}``, in either language:
    ``phrase("relay {name}", "zh", name="county")`` → ``county的传达``.
    """
    text = PHRASES_ZH.get(text, text) if language == "zh" else text
    return text.format(**values) if values else text
