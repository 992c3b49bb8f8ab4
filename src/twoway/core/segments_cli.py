"""Backend of `twoway segments`: print SMS segment info as JSON, one object per line."""

from __future__ import annotations

import json
from typing import TextIO

from twoway.core.segments import segment_info


def _dump(obj: object) -> str:
    # ensure_ascii=False so the non_gsm characters stay readable in a terminal.
    return json.dumps(obj, ensure_ascii=False)


def run(argv: list[str], stdin: TextIO, stdout: TextIO) -> int:
    """Count segments of the text in argv, or of each JSON string line on stdin.

    argv holds the arguments after the command name; several arguments are joined by a
    space, as the shell split an unquoted message. Stdin lines are JSON strings so that
    newlines and other control characters inside a message can be expressed. A bad line
    reports an error in its place and makes the exit code 1, but the rest still runs.
    """
    if argv:
        stdout.write(_dump(segment_info(" ".join(argv)).as_dict()) + "\n")
        return 0

    status = 0
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        result: dict[str, object]
        try:
            result = segment_info(_parse_line(line)).as_dict()
        except ValueError as exc:
            result, status = {"error": f"line {number}: {exc}"}, 1
        stdout.write(_dump(result) + "\n")
    return status


def _parse_line(line: str) -> str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg}") from exc
    if not isinstance(value, str):
        raise ValueError(f"expected a JSON string, got {type(value).__name__}")
    return value
