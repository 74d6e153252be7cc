"""The whole Web API of the emulator: views, files and response URLs on top of chat."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.emulator.api import ApiError, ChatApi, Triggers
from bot.emulator.blockkit import check_view
from bot.emulator.scopes import (
    BY_CONVERSATION,
    KIND_PREFIX,
    METHOD_SCOPES,
    Grants,
    conversation_kind,
)
from bot.emulator.state import Message, Workspace

METHODS = (
    "auth.test",
    "team.info",
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "chat.delete",
    "chat.getPermalink",
    "conversations.info",
    "conversations.open",
    "conversations.members",
    "conversations.join",
    "conversations.history",
    "conversations.replies",
    "reactions.get",
    "reactions.add",
    "reactions.remove",
    "users.info",
    "users.list",
    "users.conversations",
    "usergroups.users.list",
    "views.open",
    "views.push",
    "views.update",
    "views.publish",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
)
MODAL_STACK_MAX = 3
RESPONSE_URL_USES = 5


@dataclass
class ResponseUrl:
    user_id: str
    channel_id: str
    message_ts: str | None = None
    uses: int = 0


class WebApi(ChatApi):
    """Dispatches a method name to its implementation; raises ApiError on refusal."""

    def __init__(
        self,
        ws: Workspace,
        triggers: Triggers,
        base_url: Callable[[], str],
        grants: Grants | None = None,
    ) -> None:
        super().__init__(ws, grants)
        self.triggers = triggers
        self._base_url = base_url  # "http://127.0.0.1:<port>/", known once the server runs
        self._hashes = itertools.count(1)
        self.response_urls: dict[str, ResponseUrl] = {}

    def call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method not in METHODS:
            raise ApiError("unknown_method", req_method=method)
        self.check_scopes(method, args)
        return getattr(self, method.replace(".", "_"))(args)

    # scopes

    def needed_scopes(self, method: str, args: dict[str, Any]) -> list[tuple[str, ...]]:
        """Each scope requirement of a call (any one scope of a tuple satisfies it)."""
        if method in BY_CONVERSATION:
            channel = self.ws.channels.get(str(args.get("channel") or ""))
            if channel is None:
                return []  # channel_not_found comes first
            prefix = KIND_PREFIX[conversation_kind(channel)]
            return [(f"{prefix}:{BY_CONVERSATION[method]}",)]
        if method == "conversations.open":
            several = len([u for u in str(args.get("users") or "").split(",") if u.strip()]) > 1
            return [("mpim:write",) if several else ("im:write",)]
        if method == "users.conversations":
            kinds = str(args.get("types") or "public_channel").split(",")
            return [(f"{KIND_PREFIX[k.strip()]}:read",) for k in kinds if k.strip() in KIND_PREFIX]
        needed = METHOD_SCOPES.get(method)
        return [needed] if needed else []

    def check_scopes(self, method: str, args: dict[str, Any]) -> None:
        """`missing_scope` with `needed` and `provided`, as Slack answers a call not granted."""
        if self.grants is None:
            return
        for needed in self.needed_scopes(method, args):
            if self.grants.missing(needed):
                raise ApiError(
                    "missing_scope", needed=",".join(needed), provided=self.grants.provided()
                )

    # views

    def _new_hash(self) -> str:
        return f"{int(self.ws.wall())}.{next(self._hashes):08d}"

    def _validated(self, args: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
        view = args.get("view")
        errors = check_view(view, allowed_types=allowed)
        if errors:
            raise ApiError("invalid_arguments", messages=errors)
        external_id = view.get("external_id")
        if external_id and self._find_view(external_id=external_id) is not None:
            raise ApiError("duplicate_external_id")
        return view

    def _stored_view(
        self, view: dict[str, Any], *, view_id: str | None = None, root_view_id: str | None = None
    ) -> dict[str, Any]:
        view_id = view_id or self.ws.new_id("V")
        stored = {
            "id": view_id,
            "team_id": self.ws.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": root_view_id or view_id,
            "app_id": self.ws.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.ws.team_id,
            "bot_id": self.ws.bot_id,
        }
        return stored

    def _find_view(
        self, *, view_id: str | None = None, external_id: str | None = None
    ) -> tuple[list[dict[str, Any]] | dict[str, dict[str, Any]], Any] | None:
        """Where a view lives: (modal stack, index) or (home views, user_id)."""
        for stack in self.ws.modal_stacks.values():
            for i, view in enumerate(stack):
                if (view_id and view["id"] == view_id) or (
                    external_id and view.get("external_id") == external_id
                ):
                    return stack, i
        for user_id, view in self.ws.home_views.items():
            if (view_id and view["id"] == view_id) or (
                external_id and view.get("external_id") == external_id
            ):
                return self.ws.home_views, user_id
        return None

    def views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        # Slack looks at the trigger before it validates the view.
        trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
        user_id = self.triggers.check(trigger_id)
        view = self._validated(args, ("modal",))
        self.triggers.exchange(trigger_id)
        stored = self._stored_view(view)
        self.ws.modal_stacks[user_id] = [stored]
        return {"ok": True, "view": stored}

    def views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
        user_id = self.triggers.check(trigger_id)
        view = self._validated(args, ("modal",))
        stack = self.ws.modal_stack(user_id)
        if not stack:
            raise ApiError("invalid_arguments", messages=["[ERROR] no open modal to push onto"])
        if len(stack) >= MODAL_STACK_MAX:
            raise ApiError("push_limit_reached")
        self.triggers.exchange(trigger_id)
        stored = self._stored_view(view, root_view_id=stack[0]["id"])
        stored["previous_view_id"] = stack[-1]["id"]
        stack.append(stored)
        return {"ok": True, "view": stored}

    def views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("view_id") and not args.get("external_id"):
            raise ApiError("invalid_arguments", messages=["[ERROR] view_id or external_id needed"])
        where = self._find_view(view_id=args.get("view_id"), external_id=args.get("external_id"))
        if where is None:
            raise ApiError("not_found")
        container, key = where
        current = container[key]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = args.get("view")
        errors = check_view(view, allowed_types=(current["type"],))
        if errors:
            raise ApiError("invalid_arguments", messages=errors)
        stored = self._stored_view(
            view, view_id=current["id"], root_view_id=current["root_view_id"]
        )
        stored["previous_view_id"] = current["previous_view_id"]
        stored["external_id"] = view.get("external_id", current.get("external_id", ""))
        container[key] = stored
        return {"ok": True, "view": stored}

    def views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.ws.users.get(str(args.get("user_id") or ""))
        if user is None or user.deleted:
            raise ApiError("user_not_found")
        current = self.ws.home_views.get(user.id)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        errors = check_view(args.get("view"), allowed_types=("home",))
        if errors:
            raise ApiError("invalid_arguments", messages=errors)
        stored = self._stored_view(args["view"], view_id=current["id"] if current else None)
        self.ws.home_views[user.id] = stored
        return {"ok": True, "view": stored}

    def after_submission(self, user_id: str, view_id: str, ack: dict[str, Any] | None) -> None:
        """What the modal stack becomes once the bot acked a view_submission."""
        stack = self.ws.modal_stack(user_id)
        index = next((i for i, v in enumerate(stack) if v["id"] == view_id), None)
        if index is None:
            return
        action = (ack or {}).get("response_action")
        if action is None:
            del stack[index:]  # an empty ack closes the submitted view
        elif action == "clear":
            stack.clear()
        elif action in ("update", "push"):
            view = (ack or {}).get("view")
            errors = check_view(view, allowed_types=("modal",))
            if errors:
                raise ApiError("invalid_arguments", messages=errors)
            if action == "update":
                stored = self._stored_view(view, view_id=view_id, root_view_id=stack[0]["id"])
                stored["previous_view_id"] = stack[index]["previous_view_id"]
                stack[index] = stored
                del stack[index + 1 :]
            else:
                if len(stack) >= MODAL_STACK_MAX:
                    raise ApiError("push_limit_reached")
                stored = self._stored_view(view, root_view_id=stack[0]["id"])
                stored["previous_view_id"] = stack[-1]["id"]
                stack.append(stored)
        elif action == "errors":
            self._check_errors((ack or {}).get("errors"), stack[index])
        else:
            raise ApiError("invalid_arguments", messages=[f"[ERROR] bad response_action {action}"])

    @staticmethod
    def _check_errors(errors: Any, view: dict[str, Any]) -> None:
        """`response_action: errors` may only name input blocks the view has."""
        inputs = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
        if not isinstance(errors, dict) or not errors:
            raise ApiError("invalid_arguments", messages=["[ERROR] errors must be an object"])
        unknown = sorted(str(k) for k in errors if k not in inputs)
        if unknown:
            raise ApiError(
                "invalid_arguments",
                messages=[f"[ERROR] no input block with block_id {k}" for k in unknown],
            )

    def close_view(self, user_id: str, view_id: str, *, cleared: bool = False) -> None:
        """The user closed a modal (or, with `cleared`, the whole stack)."""
        stack = self.ws.modal_stack(user_id)
        index = next((i for i, v in enumerate(stack) if v["id"] == view_id), None)
        if index is not None:
            del stack[0 if cleared else index :]

    def find_view(self, view_id: str) -> dict[str, Any] | None:
        where = self._find_view(view_id=view_id)
        if where is None:
            return None
        container, key = where
        return container[key]

    # files (the two-step external upload)

    def files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), args.get("length")
        if not filename or length in (None, ""):
            raise ApiError("invalid_arguments", messages=["[ERROR] filename and length needed"])
        file_id = self.ws.new_id("F")
        self.ws.files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "size": int(length),
            "content": None,
        }
        return {
            "ok": True,
            "upload_url": f"{self._base_url()}upload/{file_id}",
            "file_id": file_id,
        }

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        """The POST to an upload URL; False when no such upload was asked for."""
        record = self.ws.files.get(file_id)
        if record is None:
            return False
        record["content"] = content
        record["size"] = len(content)
        return True

    def files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = args.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise ApiError("invalid_arguments", messages=["[ERROR] files must be a JSON array"])
        records = []
        for item in wanted:
            record = self.ws.files.get(str(item.get("id") if isinstance(item, dict) else ""))
            if record is None or record["content"] is None:
                raise ApiError("file_not_found")
            if item.get("title"):
                record["title"] = item["title"]
            records.append(record)
        channel_id = args.get("channel_id") or args.get("channels")
        channel = self.channel_for_post(channel_id) if channel_id else None
        files = [self._file_object(r, channel.id if channel else None) for r in records]
        if channel is not None:
            text = args.get("initial_comment") or ""
            self.bot_message(
                channel, {"text": text, "thread_ts": args.get("thread_ts")}, files=files
            )
        return {"ok": True, "files": files}

    def _file_object(self, record: dict[str, Any], channel_id: str | None) -> dict[str, Any]:
        return {
            "id": record["id"],
            "created": int(self.ws.wall()),
            "timestamp": int(self.ws.wall()),
            "name": record["name"],
            "title": record["title"],
            "mimetype": "application/octet-stream",
            "filetype": record["name"].rsplit(".", 1)[-1] if "." in record["name"] else "binary",
            "user": self.ws.bot_user_id,
            "size": record["size"],
            "url_private": f"https://files.slack.com/files-pri/{self.ws.team_id}-{record['id']}/",
            "channels": [channel_id] if channel_id else [],
        }

    # response_url

    def issue_response_url(
        self, user_id: str, channel_id: str, message_ts: str | None = None
    ) -> str:
        url_id = secrets.token_hex(8)
        self.response_urls[url_id] = ResponseUrl(user_id, channel_id, message_ts)
        return f"{self._base_url()}response/{url_id}"

    def respond(self, url_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A post to a response_url: ephemeral, in channel, or replacing the source message."""
        target = self.response_urls.get(url_id)
        if target is None:
            raise ApiError("expired_url")
        if target.uses >= RESPONSE_URL_USES:
            raise ApiError("used_url")
        target.uses += 1
        return self.deliver(target, body)

    def deliver(self, target: ResponseUrl, body: dict[str, Any]) -> dict[str, Any]:
        """Show a response body as Slack would: ephemeral, in channel, or replacing a message."""
        original = (
            self.ws.find_message(target.channel_id, target.message_ts)
            if target.message_ts
            else None
        )
        if body.get("delete_original") and original is not None:
            self.ws.remove_message(original.channel, original.ts)
            return {"ok": True}
        self.check_content(body)
        if body.get("replace_original") and original is not None:
            original.text = body.get("text") or ""
            original.blocks = body.get("blocks") or None
            original.edited_ts = self.ws.new_ts()
            return {"ok": True}
        channel = self.ws.channels.get(target.channel_id)
        if channel is None:
            raise ApiError("channel_not_found")
        if body.get("response_type") == "in_channel":
            self.bot_message(channel, body)
            return {"ok": True}
        self.ws.ephemerals.append(
            Message(
                channel=channel.id,
                ts=self.ws.new_ts(),
                text=body.get("text") or "",
                user=self.ws.bot_user_id,
                bot_id=self.ws.bot_id,
                blocks=body.get("blocks") or None,
                thread_ts=body.get("thread_ts") or None,
                ephemeral_to=target.user_id,
            )
        )
        return {"ok": True}
