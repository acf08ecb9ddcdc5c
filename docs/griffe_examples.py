"""A griffe extension for the API reference: rnnlab's docstrings write their doctests as
`Example:` followed by unindented `>>>` lines (as Keras does); Google-style parsers want an
indented `Examples:` section, which they render as code instead of Markdown."""

import re

from griffe import Extension

SECTION = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")


def indent_examples(text):
    """`text` with each `Example:` section renamed `Examples:` and its body indented."""
    lines, out, inside = text.split("\n"), [], False
    for line in lines:
        if line.strip() == "Example:":
            out.append(line.replace("Example:", "Examples:"))
            inside = True
        elif inside and SECTION.match(line):
            out.append(line)
            inside = False
        else:
            out.append("    " + line if inside and line.strip() else line)
    return "\n".join(out)


class ExampleSections(Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = indent_examples(obj.docstring.value)
