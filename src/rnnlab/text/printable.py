"""Echoing user text to a terminal without letting it drive the terminal.

An input line may hold escape sequences (`ESC [ 2 J` clears the screen, OSC 52
writes the clipboard), a BEL or a carriage return that overwrites what was
printed. `printable` writes every such control character as a visible escape.

Example:
>>> printable("a film\\x1b[2J\\rthe end")
'a film\\\\x1b[2J\\\\x0dthe end'
"""

import re

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # C0 (tab kept), DEL and C1


def printable(text):
    """`text` with its control characters (but tab) written as `\\xNN` escapes."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
