"""Backend of `twoway keywords`: what Twoway would do with each inbound text, as JSON, one
object per line, through the same classification the worker runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from twoway.accounts.models import Organization
from twoway.compliance.keywords import DEFAULTS, KeywordAction, KeywordSet, looks_like_opt_out


def _reply_of(action: KeywordAction, organization: Organization) -> str:
    template = {
        KeywordAction.OPT_OUT: organization.opt_out_confirmation,
        KeywordAction.OPT_IN: organization.opt_in_confirmation,
        KeywordAction.HELP: organization.help_text,
    }[action]
    return organization.render(template) if template else ""


def verdict(
    text: str, keywords: KeywordSet, organization: Organization | None
) -> dict[str, object]:
    """`action` (opt_out, opt_in, help, flag or none); for a keyword, which one, whether it is
    a carrier default, and with an organization the reply it gets (an opt-in's only reaches a
    contact who had opted out; an opt-out's only the first time)."""
    found = keywords.match(text)
    if found is None:
        return {"action": "flag" if looks_like_opt_out(text, keywords) else "none"}
    result: dict[str, object] = {
        "action": found.action.value,
        "keyword": found.keyword,
        "default": found.default,
    }
    if organization is not None:
        result["reply"] = _reply_of(found.action, organization)
    return result


# What the layers above add for a text and its action (the keyword rule, the away message).
Extra = Callable[[str, str], dict[str, object]]


def run(
    stdin: TextIO, stdout: TextIO, organization: Organization | None, extra: Extra | None = None
) -> int:
    """Each stdin line is a JSON string (so a text's newlines can be written); a bad line gets
    an `error` in its place and makes the exit code 1, the others still run."""
    from twoway.compliance.organization_keywords import keyword_set_of

    keywords = keyword_set_of(organization.pk) if organization is not None else DEFAULTS
    status = 0
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)
        except json.JSONDecodeError as exc:
            result: dict[str, object] = {"error": f"line {number}: invalid JSON: {exc.msg}"}
            status = 1
        else:
            if isinstance(text, str):
                result = verdict(text, keywords, organization)
                if extra is not None:
                    result.update(extra(text, str(result["action"])))
            else:
                kind = type(text).__name__
                result, status = {"error": f"line {number}: expected a JSON string, got {kind}"}, 1
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        stdout.flush()
    return status
