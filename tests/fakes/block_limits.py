"""Slack's Block Kit limits, checked the way Slack checks them: one validator for the fake Slack
(which refuses what Slack would refuse) and for the builders' property tests.

`message_problems(payload)` and `view_problems(view)` return what Slack would object to, as
short strings (empty: Slack accepts it). The figures are Slack's published limits
(https://docs.slack.dev/reference/block-kit/blocks, …/composition-objects, …/block-elements).
"""

from __future__ import annotations

from typing import Any

MESSAGE_TEXT = 40_000  # longer: msg_too_long
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
URL = 3000
ID = 255  # block_id, action_id, callback_id
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTIONS = 100
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
INPUT_LABEL = 2000
INPUT_HINT = 2000
PLACEHOLDER = 150
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
TEXT_OBJECT = 3000  # any text object not limited more tightly

_BLOCKS_IN_MESSAGES = {"section", "divider", "context", "actions", "header", "image", "rich_text"}
_BLOCKS_IN_VIEWS = _BLOCKS_IN_MESSAGES | {"input"}


def message_problems(payload: dict[str, Any]) -> list[str]:
    """What Slack would refuse in a message (chat.postMessage/postEphemeral/update, respond)."""
    problems: list[str] = []
    text = payload.get("text")
    if text is not None and not isinstance(text, str):
        problems.append("text: not a string")
    elif isinstance(text, str) and len(text) > MESSAGE_TEXT:
        problems.append(f"text: {len(text)} characters, more than {MESSAGE_TEXT}")
    blocks = payload.get("blocks")
    if blocks is not None:
        problems += _blocks(blocks, MESSAGE_BLOCKS, _BLOCKS_IN_MESSAGES, "blocks")
    return problems


def view_problems(view: Any) -> list[str]:
    """What Slack would refuse in a modal or a Home tab (views.open/update/push/publish)."""
    if not isinstance(view, dict):
        return ["view: not an object"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(f"view.type: {kind!r}")
    if kind == "modal":
        problems += _text(view.get("title"), "view.title", VIEW_TITLE, plain=True)
    for key in ("submit", "close"):
        if key in view:
            problems += _text(view[key], f"view.{key}", VIEW_TITLE, plain=True)
    problems += _length(view.get("private_metadata"), "view.private_metadata", PRIVATE_METADATA)
    problems += _length(view.get("callback_id"), "view.callback_id", ID)
    problems += _blocks(view.get("blocks"), VIEW_BLOCKS, _BLOCKS_IN_VIEWS, "view.blocks")
    return problems


def _blocks(blocks: Any, most: int, kinds: set[str], where: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"{where}: not a list"]
    problems = [f"{where}: {len(blocks)} blocks, more than {most}"] if len(blocks) > most else []
    for i, block in enumerate(blocks):
        problems += _block(block, kinds, f"{where}[{i}]")
    return problems


def _block(block: Any, kinds: set[str], where: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: not an object"]
    kind = block.get("type")
    if kind not in kinds:
        return [f"{where}: a {kind!r} block is not allowed here"]
    problems = _length(block.get("block_id"), f"{where}.block_id", ID)
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"{where}: a section needs text or fields")
        if "text" in block:
            problems += _text(block["text"], f"{where}.text", SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not 1 <= len(fields) <= SECTION_FIELDS:
                problems.append(f"{where}.fields: 1 to {SECTION_FIELDS} fields")
            else:
                for j, field in enumerate(fields):
                    problems += _text(field, f"{where}.fields[{j}]", FIELD_TEXT)
        if "accessory" in block:
            problems += _element(block["accessory"], f"{where}.accessory")
    elif kind == "header":
        problems += _text(block.get("text"), f"{where}.text", HEADER_TEXT, plain=True)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= CONTEXT_ELEMENTS:
            problems.append(f"{where}.elements: 1 to {CONTEXT_ELEMENTS} elements")
        else:
            for j, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") == "image":
                    continue
                problems += _text(element, f"{where}.elements[{j}]", TEXT_OBJECT)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= ACTIONS_ELEMENTS:
            problems.append(f"{where}.elements: 1 to {ACTIONS_ELEMENTS} elements")
        else:
            for j, element in enumerate(elements):
                problems += _element(element, f"{where}.elements[{j}]")
    elif kind == "input":
        problems += _text(block.get("label"), f"{where}.label", INPUT_LABEL, plain=True)
        if "hint" in block:
            problems += _text(block["hint"], f"{where}.hint", INPUT_HINT, plain=True)
        problems += _element(block.get("element"), f"{where}.element")
    return problems


def _element(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict):
        return [f"{where}: not an object"]
    kind = element.get("type")
    problems = _length(element.get("action_id"), f"{where}.action_id", ID)
    if "placeholder" in element:
        problems += _text(element["placeholder"], f"{where}.placeholder", PLACEHOLDER, plain=True)
    if kind == "button":
        problems += _text(element.get("text"), f"{where}.text", BUTTON_TEXT, plain=True)
        problems += _length(element.get("value"), f"{where}.value", BUTTON_VALUE)
        problems += _length(element.get("url"), f"{where}.url", URL)
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"{where}.style: {element.get('style')!r}")
    elif kind in ("static_select", "overflow", "radio_buttons", "checkboxes"):
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= OPTIONS:
            problems.append(f"{where}.options: 1 to {OPTIONS} options")
        else:
            for j, option in enumerate(options):
                option = option if isinstance(option, dict) else {}
                problems += _text(option.get("text"), f"{where}.options[{j}]", OPTION_TEXT)
                problems += _length(
                    option.get("value"), f"{where}.options[{j}].value", OPTION_VALUE
                )
    if "confirm" in element:
        confirm = element["confirm"] if isinstance(element["confirm"], dict) else {}
        problems += _text(confirm.get("title"), f"{where}.confirm.title", CONFIRM_TITLE, plain=True)
        problems += _text(confirm.get("text"), f"{where}.confirm.text", CONFIRM_TEXT)
        for key in ("confirm", "deny"):
            problems += _text(
                confirm.get(key), f"{where}.confirm.{key}", CONFIRM_BUTTON, plain=True
            )
    return problems


def _text(obj: Any, where: str, most: int, *, plain: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: not a text object"]
    kind = obj.get("type")
    if kind not in (("plain_text",) if plain else ("plain_text", "mrkdwn")):
        return [f"{where}: a {kind!r} text object is not allowed here"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: empty text"]
    if len(text) > most:
        return [f"{where}: {len(text)} characters, more than {most}"]
    return []


def _length(value: Any, where: str, most: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{where}: not a string"]
    return [f"{where}: {len(value)} characters, more than {most}"] if len(value) > most else []
