"""Block Kit and mrkdwn to Rich renderables: pure functions of (blocks, a name lookup)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

BUTTON_STYLES = {"primary": "bold green", "danger": "bold red"}


class Names(Protocol):
    """Who and where an id is, for showing `<@U…>` as `@name` and `<#C…>` as `#channel`."""

    def user_name(self, user_id: str) -> str | None: ...

    def channel_name(self, channel_id: str) -> str | None: ...


@dataclass
class NameBook:
    """A Names lookup from two plain dicts."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)

    def user_name(self, user_id: str) -> str | None:
        return self.users.get(user_id)

    def channel_name(self, channel_id: str) -> str | None:
        return self.channels.get(channel_id)


@dataclass(frozen=True)
class Button:
    """A clickable element as it was rendered; the session adds the container."""

    number: int
    label: str
    action_id: str
    block_id: str
    value: str | None = None
    url: str | None = None


@dataclass
class Rendered:
    """What a set of blocks looks like, and the buttons in it, numbered from `first`."""

    parts: list[RenderableType] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)

    def group(self) -> Group:
        return Group(*self.parts)


# ---- mrkdwn ------------------------------------------------------------------------------------

_CODE_BLOCK = re.compile(r"```(.*?)```", re.DOTALL)
_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<link><[^<>\n]+>)"
    r"|(?P<bold>(?<![\w*])\*(?=\S)[^*\n]*?(?<=\S)\*(?![\w*]))"
    r"|(?P<italic>(?<![\w_])_(?=\S)[^_\n]*?(?<=\S)_(?![\w_]))"
    r"|(?P<strike>(?<![\w~])~(?=\S)[^~\n]*?(?<=\S)~(?![\w~]))"
)
_MARK_STYLES = {"bold": "bold", "italic": "italic", "strike": "strike"}


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def link_text(inner: str, names: Names) -> tuple[str, str]:
    """What `<…>` shows as, and its style: mentions as @name / #channel, links as label."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        name = names.user_name(user_id) or label.lstrip("@") or user_id
        return f"@{name}", "bold cyan"
    if target.startswith("#"):
        channel_id = target[1:]
        name = names.channel_name(channel_id) or label.lstrip("#") or channel_id
        return f"#{name}", "bold cyan"
    if target.startswith("!"):
        special = target[1:]
        if special.startswith("subteam^"):
            return label or "@group", "bold cyan"
        if special.startswith("date^"):
            return label or special, ""
        return f"@{special.split('^')[0]}", "bold yellow"
    url = unescape(target)
    if label and unescape(label) != url:
        return f"{unescape(label)} ({url})", f"underline link {url}"
    return url, f"underline link {url}"


def _inline(text: str, names: Names, style: str, out: Text) -> None:
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            out.append(unescape(text[position : match.start()]), style=style)
        kind = match.lastgroup or ""
        token = match.group()
        if kind == "code":
            out.append(unescape(token[1:-1]), style=f"{style} bold magenta".strip())
        elif kind == "link":
            shown, link_style = link_text(token[1:-1], names)
            out.append(shown, style=f"{style} {link_style}".strip())
        else:
            _inline(token[1:-1], names, f"{style} {_MARK_STYLES[kind]}".strip(), out)
        position = match.end()
    if position < len(text):
        out.append(unescape(text[position:]), style=style)


def mrkdwn(text: str, names: Names, *, style: str = "") -> Text:
    """Slack mrkdwn as styled terminal text (bold, italics, strike, code, links, mentions)."""
    out = Text()
    position = 0
    for match in _CODE_BLOCK.finditer(text):
        _lines(text[position : match.start()], names, style, out)
        out.append(unescape(match.group(1).strip("\n")), style=f"{style} magenta".strip())
        position = match.end()
    _lines(text[position:], names, style, out)
    return out


def _lines(text: str, names: Names, style: str, out: Text) -> None:
    for i, line in enumerate(text.split("\n")):
        if i:
            out.append("\n")
        if line.startswith(">"):
            out.append("│ ", style="dim")
            _inline(line[1:].lstrip(), names, f"{style} italic".strip(), out)
        else:
            _inline(line, names, style, out)


def text_object(obj: Any, names: Names, *, style: str = "") -> Text:
    """A Block Kit text object (plain_text or mrkdwn), or a bare string."""
    if isinstance(obj, str):
        return mrkdwn(obj, names, style=style)
    if not isinstance(obj, dict):
        return Text("")
    raw = str(obj.get("text") or "")
    if obj.get("type") == "plain_text":
        return Text(raw, style=style)
    return mrkdwn(raw, names, style=style)


def plain(obj: Any) -> str:
    """The raw text of a text object."""
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


# ---- blocks ------------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, names: Names, first: int) -> None:
        self.names = names
        self.next_number = first
        self.result = Rendered()

    def button(self, element: dict[str, Any], block_id: str) -> Text:
        label = plain(element.get("text")) or "button"
        number = self.next_number
        self.next_number += 1
        self.result.buttons.append(
            Button(
                number=number,
                label=label,
                action_id=str(element.get("action_id") or ""),
                block_id=block_id,
                value=element.get("value"),
                url=element.get("url"),
            )
        )
        style = BUTTON_STYLES.get(str(element.get("style")), "bold")
        return Text.assemble("[", (f"{number} {label}", style), "]")

    def element(self, element: Any, block_id: str) -> Text:
        """An interactive or context element, shown briefly."""
        if not isinstance(element, dict):
            return Text("")
        kind = str(element.get("type"))
        if kind == "button":
            return self.button(element, block_id)
        if kind == "image":
            return Text(f"[image: {element.get('alt_text') or 'no description'}]", style="dim")
        if kind in ("mrkdwn", "plain_text"):
            return text_object(element, self.names)
        placeholder = plain(element.get("placeholder"))
        return Text(f"[{kind}{': ' + placeholder if placeholder else ''}]", style="dim")

    def block(self, block: Any) -> RenderableType | None:
        if not isinstance(block, dict):
            return Text("[not a block]", style="dim")
        kind = str(block.get("type"))
        block_id = str(block.get("block_id") or "")
        if kind == "header":
            return Text(plain(block.get("text")), style="bold underline")
        if kind == "divider":
            return Rule(style="dim")
        if kind == "section":
            return self.section(block, block_id)
        if kind == "context":
            parts = [self.element(e, block_id) for e in block.get("elements") or []]
            line = Text(" · ").join(p for p in parts if p.plain)
            line.stylize("dim")
            return line
        if kind == "actions":
            return Text(" ").join(self.element(e, block_id) for e in block.get("elements") or [])
        if kind == "image":
            title = plain(block.get("title"))
            alt = block.get("alt_text") or "no description"
            return Text(f"[image: {alt}]" + (f" {title}" if title else ""), style="dim")
        if kind == "input":
            return self.input(block)
        if kind == "rich_text":
            return rich_text(block, self.names)
        return Text(f"[{kind} block not shown in the shell]", style="dim")

    def section(self, block: dict[str, Any], block_id: str) -> RenderableType:
        parts: list[RenderableType] = []
        accessory = block.get("accessory")
        text = text_object(block["text"], self.names) if block.get("text") else None
        if text is not None:
            if isinstance(accessory, dict):
                text = Text.assemble(text, "  ", self.element(accessory, block_id))
            parts.append(text)
        elif isinstance(accessory, dict):
            parts.append(self.element(accessory, block_id))
        fields = block.get("fields") or []
        if fields:
            grid = Table.grid(padding=(0, 4))
            grid.add_column()
            grid.add_column()
            cells = [text_object(f, self.names) for f in fields]
            for i in range(0, len(cells), 2):
                grid.add_row(*cells[i : i + 2])
            parts.append(grid)
        return Group(*parts) if len(parts) != 1 else parts[0]

    def input(self, block: dict[str, Any]) -> Text:
        label = plain(block.get("label"))
        element = block.get("element") or {}
        optional = " (optional)" if block.get("optional") else ""
        default = describe_default(element, self.names)
        return Text.assemble(
            (f"{label}{optional}", "bold"),
            (f"  [{element.get('type')}]", "dim"),
            (f"  {default}" if default else "", "italic"),
        )

    def blocks(self, blocks: Iterable[Any]) -> Rendered:
        for block in blocks:
            shown = self.block(block)
            if shown is not None:
                self.result.parts.append(shown)
        return self.result


def render_blocks(blocks: Iterable[Any], names: Names, *, first: int = 1) -> Rendered:
    """Blocks as Rich renderables; buttons are numbered from `first`."""
    return _Renderer(names, first).blocks(blocks)


def render_message(
    message: Mapping[str, Any], names: Names, *, first: int = 1, heading: Text | None = None
) -> Rendered:
    """A message: its heading, then its blocks, or its text when it has none."""
    blocks = message.get("blocks") or []
    rendered = (
        render_blocks(blocks, names, first=first)
        if blocks
        else Rendered(parts=[mrkdwn(str(message.get("text") or ""), names)])
    )
    if heading is not None:
        rendered.parts.insert(0, heading)
    return rendered


def render_view(view: Mapping[str, Any], names: Names, *, first: int = 1) -> Rendered:
    """A modal or the Home tab: title, blocks, then the modal's own buttons."""
    kind = view.get("type")
    title = plain(view.get("title")) or ("Home" if kind == "home" else "Modal")
    heading = "Home tab" if kind == "home" else f"Modal: {title}"
    rendered = render_blocks(view.get("blocks") or [], names, first=first)
    rendered.parts.insert(0, Rule(Text(heading, style="bold"), characters="═", align="left"))
    footer = [f"[{plain(view[k])}]" for k in ("submit", "close") if view.get(k)]
    if footer:
        rendered.parts.append(Text("  ".join(footer), style="dim"))
    rendered.parts.append(Rule(characters="═", style="dim"))
    return rendered


def describe_default(element: Mapping[str, Any], names: Names) -> str:
    """An input element's initial value, as the shell offers it."""
    kind = element.get("type")
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return str(element.get("initial_value") or "")
    if kind == "multi_users_select":
        users = element.get("initial_users") or []
        return " ".join(f"@{names.user_name(u) or u}" for u in users)
    if kind == "users_select" and element.get("initial_user"):
        user = str(element["initial_user"])
        return f"@{names.user_name(user) or user}"
    if kind in ("conversations_select", "channels_select"):
        channel = element.get("initial_conversation") or element.get("initial_channel")
        return f"#{names.channel_name(channel) or channel}" if channel else ""
    if kind in ("multi_conversations_select", "multi_channels_select"):
        channels = element.get("initial_conversations") or element.get("initial_channels") or []
        return " ".join(f"#{names.channel_name(c) or c}" for c in channels)
    if kind in ("static_select", "radio_buttons") and element.get("initial_option"):
        return plain(element["initial_option"].get("text"))
    if kind in ("multi_static_select", "checkboxes"):
        return ", ".join(plain(o.get("text")) for o in element.get("initial_options") or [])
    if kind == "datepicker":
        return str(element.get("initial_date") or "")
    if kind == "timepicker":
        return str(element.get("initial_time") or "")
    return ""


# ---- rich_text (what people type in Slack arrives this way) -------------------------------------


def rich_text(block: Mapping[str, Any], names: Names) -> Text:
    out = Text()
    for i, element in enumerate(block.get("elements") or []):
        if i:
            out.append("\n")
        _rich_element(element, names, out)
    return out


def _rich_element(element: Mapping[str, Any], names: Names, out: Text) -> None:
    kind = element.get("type")
    if kind in ("rich_text_section", "rich_text_quote", "rich_text_preformatted"):
        prefix = {"rich_text_quote": "│ ", "rich_text_preformatted": ""}.get(str(kind), "")
        out.append(prefix, style="dim")
        for leaf in element.get("elements") or []:
            _rich_leaf(leaf, names, out)
    elif kind == "rich_text_list":
        for n, item in enumerate(element.get("elements") or [], start=1):
            bullet = f"{n}. " if element.get("style") == "ordered" else "• "
            out.append(("\n" if n > 1 else "") + bullet)
            for leaf in item.get("elements") or []:
                _rich_leaf(leaf, names, out)
    else:
        out.append(f"[{kind}]", style="dim")


def _rich_leaf(leaf: Mapping[str, Any], names: Names, out: Text) -> None:
    marks = leaf.get("style") or {}
    style = " ".join(s for s in ("bold", "italic", "strike") if marks.get(s))
    if marks.get("code"):
        style += " bold magenta"
    kind = leaf.get("type")
    if kind == "text":
        out.append(str(leaf.get("text") or ""), style=style.strip())
    elif kind == "user":
        user_id = str(leaf.get("user_id"))
        out.append(f"@{names.user_name(user_id) or user_id}", style="bold cyan")
    elif kind == "channel":
        channel_id = str(leaf.get("channel_id"))
        out.append(f"#{names.channel_name(channel_id) or channel_id}", style="bold cyan")
    elif kind == "link":
        url = str(leaf.get("url"))
        label = leaf.get("text")
        out.append(f"{label} ({url})" if label else url, style="underline")
    elif kind == "emoji":
        out.append(f":{leaf.get('name')}:")
    elif kind == "broadcast":
        out.append(f"@{leaf.get('range')}", style="bold yellow")
    else:
        out.append(f"[{kind}]", style="dim")


def to_plain(renderable: RenderableType, *, width: int = 100) -> str:
    """What a renderable prints as on a terminal without colours (for tests and scripts)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, no_color=True, force_terminal=False, highlight=False, emoji=False
    )
    console.print(renderable)
    return buffer.getvalue()
