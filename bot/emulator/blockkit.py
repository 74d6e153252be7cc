"""Block Kit limits as Slack enforces them, with Slack-style error messages."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000
VIEW_TITLE_MAX = 24
VIEW_BUTTON_MAX = 24  # submit and close
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
EXTERNAL_ID_MAX = 255
BLOCK_ID_MAX = 255
ACTION_ID_MAX = 255
SECTION_TEXT_MAX = 3000
SECTION_FIELD_MAX = 2000
SECTION_FIELDS_MAX = 10
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
INPUT_LABEL_MAX = 2000
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10

VIEW_TYPES = ("modal", "home")


def _err(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, dict):
        text = obj.get("text")
        return text if isinstance(text, str) else None
    return obj if isinstance(obj, str) else None


def _too_long(obj: Any, limit: int, pointer: str, errors: list[str]) -> None:
    text = _text_of(obj)
    if text is not None and len(text) > limit:
        errors.append(_err(f"must be less than {limit + 1} characters", pointer))


def _check_element(element: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(element, dict):
        errors.append(_err("must be an object", pointer))
        return
    action_id = element.get("action_id")
    if isinstance(action_id, str) and len(action_id) > ACTION_ID_MAX:
        errors.append(
            _err(f"must be less than {ACTION_ID_MAX + 1} characters", f"{pointer}/action_id")
        )
    if element.get("type") == "button":
        _too_long(element.get("text"), BUTTON_TEXT_MAX, f"{pointer}/text/text", errors)
        _too_long(element.get("value"), BUTTON_VALUE_MAX, f"{pointer}/value", errors)


def _check_block(block: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        errors.append(_err("missing required field: type", pointer))
        return
    kind = block["type"]
    block_id = block.get("block_id")
    if isinstance(block_id, str) and len(block_id) > BLOCK_ID_MAX:
        errors.append(
            _err(f"must be less than {BLOCK_ID_MAX + 1} characters", f"{pointer}/block_id")
        )
    if kind == "section":
        _too_long(block.get("text"), SECTION_TEXT_MAX, f"{pointer}/text/text", errors)
        fields = block.get("fields") or []
        if len(fields) > SECTION_FIELDS_MAX:
            errors.append(
                _err(f"no more than {SECTION_FIELDS_MAX} items allowed", f"{pointer}/fields")
            )
        for i, item in enumerate(fields):
            _too_long(item, SECTION_FIELD_MAX, f"{pointer}/fields/{i}/text", errors)
        if "accessory" in block:
            _check_element(block["accessory"], f"{pointer}/accessory", errors)
    elif kind == "header":
        _too_long(block.get("text"), HEADER_TEXT_MAX, f"{pointer}/text/text", errors)
    elif kind == "actions":
        elements = block.get("elements") or []
        if len(elements) > ACTIONS_ELEMENTS_MAX:
            errors.append(
                _err(f"no more than {ACTIONS_ELEMENTS_MAX} items allowed", f"{pointer}/elements")
            )
        for i, element in enumerate(elements):
            _check_element(element, f"{pointer}/elements/{i}", errors)
    elif kind == "context":
        elements = block.get("elements") or []
        if len(elements) > CONTEXT_ELEMENTS_MAX:
            errors.append(
                _err(f"no more than {CONTEXT_ELEMENTS_MAX} items allowed", f"{pointer}/elements")
            )
    elif kind == "input":
        _too_long(block.get("label"), INPUT_LABEL_MAX, f"{pointer}/label/text", errors)
        if "element" in block:
            _check_element(block["element"], f"{pointer}/element", errors)


def _check_blocks(blocks: Any, limit: int, pointer: str) -> list[str]:
    if not isinstance(blocks, list):
        return [_err("must be an array", pointer)]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(_err(f"no more than {limit} items allowed", pointer))
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(block, f"{pointer}/{i}", errors)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            # Slack refuses two blocks with the same block_id in one surface.
            if block_id in seen:
                errors.append(_err("duplicate block_id", f"{pointer}/{i}/block_id"))
            seen.add(block_id)
    return errors


def _sdk_errors(build: Any) -> list[str]:
    """What slack_sdk's own model validation says (it recurses through to_dict)."""
    try:
        build()
    except Exception as exc:  # the models raise several types; all mean "invalid"
        return [f"[ERROR] {exc}"]
    return []


def check_message_blocks(blocks: Any) -> list[str]:
    """Errors for a message's `blocks`, empty when Slack would accept them."""
    errors = _check_blocks(blocks, MESSAGE_MAX_BLOCKS, "/blocks")
    if errors:
        return errors
    return _sdk_errors(lambda: [b.to_dict() for b in Block.parse_all(blocks)])


def check_view(view: Any, *, allowed_types: tuple[str, ...] = VIEW_TYPES) -> list[str]:
    """Errors for a modal or Home tab view, empty when Slack would accept it."""
    if not isinstance(view, dict):
        return [_err("must be an object", "/view")]
    kind = view.get("type")
    if kind not in allowed_types:
        return [_err(f"must be one of {', '.join(allowed_types)}", "/view/type")]
    errors: list[str] = []
    if kind == "modal" and _text_of(view.get("title")) is None:
        errors.append(_err("missing required field: title", "/view"))
    _too_long(view.get("title"), VIEW_TITLE_MAX, "/view/title/text", errors)
    _too_long(view.get("submit"), VIEW_BUTTON_MAX, "/view/submit/text", errors)
    _too_long(view.get("close"), VIEW_BUTTON_MAX, "/view/close/text", errors)
    _too_long(view.get("private_metadata"), PRIVATE_METADATA_MAX, "/view/private_metadata", errors)
    _too_long(view.get("callback_id"), CALLBACK_ID_MAX, "/view/callback_id", errors)
    _too_long(view.get("external_id"), EXTERNAL_ID_MAX, "/view/external_id", errors)
    if kind == "home" and ("submit" in view or "close" in view):
        errors.append(_err("home views cannot have submit or close", "/view"))
    has_input = any(
        isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks", [])
    )
    if kind == "modal" and has_input and "submit" not in view:
        errors.append(_err("submit is required when input blocks are present", "/view"))
    errors.extend(_check_blocks(view.get("blocks", []), VIEW_MAX_BLOCKS, "/view/blocks"))
    if errors:
        return errors
    fields = {k: v for k, v in view.items() if k in View.attributes}
    return _sdk_errors(lambda: View(**fields).to_dict())
