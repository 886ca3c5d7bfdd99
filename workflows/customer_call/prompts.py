"""What the customer-call workflow says to the copy model, and reads back: the extraction prompt and
its JSON grammar, the follow-up email's brief, and the small text rules (an agent's greeting, which
turn a quote comes from)."""
from __future__ import annotations

import json
import re

# GBNF (llama.cpp): the object the extraction must be, at most 8 items, short strings.
ITEMS_GRAMMAR = r'''
root ::= "{" ws "\"company\":" ws str "," ws "\"topic\":" ws str "," ws "\"items\":" ws "[" ws items? ws "]" ws "}"
items ::= item (ws "," ws item){0,7}
item ::= "{" ws "\"kind\":" ws kind "," ws "\"issue\":" ws str "," ws "\"evidence\":" ws str "," ws "\"turn\":" ws num "," ws "\"severity\":" ws sev ws "}"
kind ::= "\"complaint\"" | "\"liked\""
sev ::= "\"low\"" | "\"medium\"" | "\"high\""
str ::= "\"" chr{0,160} "\""
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
              '"severity": "<low|medium|high>"}, ...]}')
_FORMAT_ZH = ('{"company": "<公司名>", "topic": "<产品或服务>", "items": ['
              '{"kind": "complaint", "issue": "<几个词>", "evidence": "<客户原话>", "turn": <编号>, '
              '"severity": "<low|medium|high>"}, ...]}')


def extraction_messages(call) -> list[dict]:
    zh = call.language == "zh"
    if zh:
        task = ("下面是一通客服电话中客户说的话，每段前有编号。找出客户抱怨的每一个问题（通常不止一个）和客户喜欢、称赞的每一点，"
                "每一点单独列为一项。抱怨是客户说出了问题的事；喜欢是客户说好的地方；提问和请求都不算。issue 用几个词写出问题；evidence 原样摘录客户的一句话；"
                "turn 是那句话的编号；severity 表示严重程度。company 是公司名（没有就写空字符串），topic 是通话涉及的产品或服务（几个词）。"
                "用 JSON 回答，格式如下：\n" + _FORMAT_ZH)
    else:
        task = ("Below is what the customer said in a support call, each turn numbered. List every problem the "
                "customer complained about (there are usually several) and every thing the customer liked or "
                "praised, each as its own item. A complaint is something the customer says went wrong; a like is "
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


def _words(text: str) -> set[str]:
    text = text.lower()
    return set(re.findall(r"[a-z0-9']+", text)) | set(re.findall(r"[\u3400-\u9fff]", text))


def best_turn(quote: str, turns, speaker: str | None) -> int:
    """The turn of `speaker` that shares most words with `quote` (-1 when none is theirs)."""
    wanted = _words(quote)
    best, best_score = -1, -1.0
    for i, turn in enumerate(turns):
        if speaker is not None and turn.speaker != speaker:
            continue
        score = len(wanted & _words(turn.text)) / (len(wanted) or 1)
        if score > best_score:
            best, best_score = i, score
    return best


# ---- the email's brief --------------------------------------------------------------------------
def email_points(call, language: str) -> str:
    """Each complaint by name (to answer) and each thing liked (to thank for), one per line."""
    lines = []
    for item in call.items:
        if language == "zh":
            head = "需回应的问题" if item.kind == "complaint" else "客户喜欢的"
            lines.append(f"{head}：{item.issue}（客户原话：{item.evidence}）")
        else:
            head = "Complaint to answer" if item.kind == "complaint" else "Liked (thank them)"
            lines.append(f"{head}: {item.issue} (customer said: \"{item.evidence}\")")
    return "\n".join(lines)


def email_description(call, complaints, language: str) -> str:
    topic = call.topic or ("这次通话" if language == "zh" else "the call")
    if language == "zh":
        return (f"通话后给客户的跟进邮件，关于{topic}。逐一点名回应每个问题并说明我们会怎么做；感谢客户喜欢的地方。"
                f"共 {len(complaints)} 个问题。")
    return (f"A follow-up email after a customer call about {topic}. Name and answer each complaint with what we "
            f"will do about it, and thank them for what they liked. {len(complaints)} complaint(s) in all.")


def signature(call, language: str) -> str:
    agent = next((s for s, role in call.roles.items() if role == "agent"), None)
    name = call.name(agent) if agent else ""
    company = call.company
    if language == "zh":
        return f"以客服{name}的身份写，署名：{name}{('，' + company) if company else ''}"
    return f"Written by {name}{(' of ' + company) if company else ''}, who took the call; signed with that name"
