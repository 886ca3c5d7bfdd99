"""What the customer-call workflow says to the copy model, and reads back: the extraction prompt and
its JSON grammar, the follow-up email's brief, and the small text rules (an agent's greeting, the
placeholders a small model leaves in an email)."""
from __future__ import annotations

import json
import re

# GBNF (llama.cpp): the object the extraction must be: one list, complaints first and then likes. Two
# lists ("complaints", "liked") made the model stop after one complaint; one list whose shape showed
# only complaints made it list no like (second and third rounds of calls). Bounded strings: the model wrote
# issue names of 120 characters and paraphrased quotes of 200, the time of the step (grounding.py finds
# the customer's own sentence anyway).
ITEMS_GRAMMAR = r'''
root ::= "{" ws "\"company\":" ws str "," ws "\"topic\":" ws str "," ws "\"items\":" ws "[" ws items? ws "]" ws "}"
items ::= complaint (ws "," ws complaint){0,5} (ws "," ws like){0,2} | like (ws "," ws like){0,2}
complaint ::= "{" ws "\"kind\":" ws "\"complaint\"" "," ws rest ws "}"
like ::= "{" ws "\"kind\":" ws "\"liked\"" "," ws rest ws "}"
rest ::= "\"issue\":" ws name "," ws "\"evidence\":" ws quote "," ws "\"turn\":" ws num "," ws "\"severity\":" ws sev
sev ::= "\"low\"" | "\"medium\"" | "\"high\""
str ::= "\"" chr{0,80} "\""
name ::= "\"" chr{1,60} "\""
quote ::= "\"" chr{0,120} "\""
chr ::= [^"\\\x00-\x1f] | "\\" ["\\/nt]
num ::= [1-9] [0-9]?
ws ::= [ \n]{0,3}
'''

_GREETING = re.compile(r"\b(thank(s| you) for (calling|contacting|holding)|this is \w+|how (can|may) i help|"
                       r"speaking|customer (service|support|care)|welcome to)\b|"
                       r"(您好|你好).{0,12}(客服|服务|热线)|很高兴为您服务|请问有什么可以|感谢您(的)?来电|我是.{0,8}客服",
                       re.IGNORECASE)


def sounds_like_agent(text: str) -> bool:
    """The words a support or sales agent opens a call with."""
    return bool(_GREETING.search(text[:200]))


def transcript_block(call, customer_only: bool = False) -> str:
    """The numbered turns (numbers from 1, as the answer's `turn` counts them); only the customer's when
    asked: a small model otherwise lists what the agent offers as complaints."""
    lines = []
    for i, turn in enumerate(call.turns, 1):
        role = call.roles.get(turn.speaker, "customer")
        if customer_only and role != "customer":
            continue
        lines.append(f"[{i}] {call.name(turn.speaker)} ({role}): {turn.text}")
    return "\n".join(lines)


# The shape only: a small model copies an example's content into its answer (it did, on the tune calls).
_FORMAT_EN = ('{"company": "<the company>", "topic": "<the product or service>", "items": ['
              '{"kind": "complaint", "issue": "<a few words>", "evidence": "<the customer\'s words>", "turn": <number>, '
              '"severity": "<low|medium|high>"}, ..., {"kind": "liked", "issue": "<a few words>", '
              '"evidence": "<the customer\'s words>", "turn": <number>, "severity": "low"}, ...]}')
_FORMAT_ZH = ('{"company": "<公司名>", "topic": "<产品或服务>", "items": ['
              '{"kind": "complaint", "issue": "<几个词>", "evidence": "<客户原话>", "turn": <编号>, '
              '"severity": "<low|medium|high>"}, ..., {"kind": "liked", "issue": "<几个词>", "evidence": "<客户原话>", '
              '"turn": <编号>, "severity": "low"}, ...]}')


def extraction_messages(call) -> list[dict]:
    zh = call.language == "zh"
    if zh:
        task = ("下面是一通客服电话中客户说的话，每段前有编号。找出客户抱怨的每一个问题（通常不止一个）和客户喜欢、称赞的每一点，"
                "每一点单独列为一项：先列出所有抱怨（kind 为 complaint），再列出喜欢的（kind 为 liked）。抱怨是客户说出了问题的事；喜欢是客户说好的地方；提问和请求都不算。issue 用几个词写出问题；evidence 原样摘录客户的一句话；"
                "turn 是那句话的编号；severity 表示严重程度。company 是公司名（没有就写空字符串），topic 是通话涉及的产品或服务（几个词）。"
                "用 JSON 回答，格式如下：\n" + _FORMAT_ZH)
    else:
        task = ("Below is what the customer said in a support call, each turn numbered. List every problem the "
                "customer complained about (there are usually several) and every thing the customer liked or "
                "praised, each as its own item: all complaints first (kind complaint), then the likes (kind liked). A complaint is something the customer says went wrong; a like is "
                "something the customer says is good. Questions and requests are neither. issue: a few words naming "
                "it; evidence: the customer's words, quoted exactly; turn: that turn's number; severity: how "
                "serious. company: the company's name (empty if none is said); topic: the product or service the "
                "call is about, in a few words. Answer in JSON, in this format:\n" + _FORMAT_EN)
    return [{"role": "system", "content": "你是分析客户电话的助手。" if zh else "You analyse customer calls."},
            {"role": "user", "content": f"{task}\n\n{transcript_block(call, customer_only=True)}"}]


def salvage_json(text: str) -> dict:
    """The first JSON object in a text an engine without grammars wrote (a server, transformers)."""
    start, depth = text.find("{"), 0
    if start < 0:
        return {"items": []}
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            try:
                return json.loads(text[start:end + 1])
            except ValueError:
                break
    return {"items": []}


# ---- the email's brief --------------------------------------------------------------------------
def email_points(call, language: str) -> str:
    """The email's paragraphs in order: the greeting, one per complaint (its name and the customer's own
    words, to say back), the thanks for what was liked. A small model given the points as a list wrote
    filler paragraphs and left complaints out (second round of calls)."""
    customer = call.name(call.customer() or "")
    complaints = [i for i in call.items if i.kind == "complaint"]
    liked = [i for i in call.items if i.kind == "liked"]
    if language == "zh":
        lines = [f"正文按顺序分段：第 1 段：称呼“{customer}”。"]
        for n, item in enumerate(complaints, 2):
            lines.append(f"第 {n} 段：问题“{item.issue}”，客户原话：“{item.evidence}”。用“您”复述客户说的事实（“您提到……”），再说明我们会怎么做。")
        thanks = "感谢客户喜欢的" + "、".join(f"“{i.issue}”" for i in liked) + "，" if liked else ""
        lines.append(f"最后一段：{thanks}落款。")
        return "\n".join(lines)
    lines = [f"The body's paragraphs, in order: 1. Dear {customer},"]
    for n, item in enumerate(complaints, 2):
        lines.append(f"{n}. The complaint \"{item.issue}\" (the customer said: \"{item.evidence}\"): say back "
                     f"the facts they gave, to them (\"you told us ...\"), then what we will do.")
    thanks = "Thank them for " + ", ".join(f"\"{i.issue}\"" for i in liked) + ", then sign" if liked else "Sign"
    lines.append(f"{len(complaints) + 2}. {thanks} off.")
    return "\n".join(lines)


def email_description(call, complaints, language: str) -> str:
    topic = call.topic or ("这次通话" if language == "zh" else "the call")
    if language == "zh":
        return (f"通话后给客户的跟进邮件，关于{topic}。逐一回应每个问题：用客户自己说的事实点出问题（什么事、多久、多少钱），"
                f"再说明我们会怎么做；感谢客户喜欢的地方。共 {len(complaints)} 个问题。不要写方括号占位符。")
    return (f"A follow-up email after a customer call about {topic}. Answer each complaint: name it with the facts "
            f"the customer gave (what happened, how long, how much), then say what we will do about it; thank them "
            f"for what they liked. {len(complaints)} complaint(s) in all. No placeholders in brackets.")


def signature(call, language: str) -> str:
    agent = call.agent()
    name = call.name(agent) if agent else ""
    company = call.company
    if language == "zh":
        return f"以客服{name}的身份写，署名：{name}{('，' + company) if company else ''}"
    return f"Written by {name}{(' of ' + company) if company else ''}, who took the call; signed with that name"


# ---- what the email must not show --------------------------------------------------------------
_PLACEHOLDER = re.compile(r"[\[【]([^\]】\n]{1,40})[\]】]")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def _filler(inside: str, agent: str, customer: str, company: str) -> str:
    """What a bracketed placeholder stands for, or '' when the call does not say."""
    words = inside.lower()
    if any(w in words for w in ("contact", "phone", "number", "email", "address", "link", "website", "url", "date",
                                "time", "电话", "号码", "邮箱", "地址", "链接", "网址", "日期", "时间")):
        return ""
    if any(w in words for w in ("customer", "recipient", "客户", "顾客")):
        return customer
    if any(w in words for w in ("company", "brand", "business", "公司", "品牌")):
        return company
    if any(w in words for w in ("name", "agent", "signature", "your", "姓名", "名字", "署名", "客服")):
        return agent
    return ""


def fill_placeholders(text: str, agent: str, customer: str, company: str) -> str:
    """A small model leaves "[Agent's Name]" or "[Contact Information]" in an email: names the call
    knows are filled in; a sentence with any other placeholder is dropped, and so is a line left empty."""
    def fill(match):
        return _filler(match.group(1), agent, customer, company) or match.group(0)

    lines = []
    for line in text.split("\n"):
        if not _PLACEHOLDER.search(line):
            lines.append(line)
            continue
        kept = []
        for sentence in _SENTENCE_END.split(line):
            sentence = _PLACEHOLDER.sub(fill, sentence)
            if sentence and not _PLACEHOLDER.search(sentence):
                kept.append(sentence)
        joined = "" if not kept else ("" if kept[0][:1] >= "\u3000" else " ").join(kept)
        if joined.strip() or not line.strip():
            lines.append(joined)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
