"""MkDocs hooks: the recorded runs in `results/` join the site, and the results page is
generated from them at build time (`docs/results_page.py`), never typed.

Pages link to `results/` the way they must on a checkout (`../../results/x.png` from
`docs/tutorial/en.md`); the site serves `results/` beside the pages, so those links are rewritten
to the site's layout. Any other link that leaves `docs/` is left alone, and `mkdocs build --strict`
fails on it.
"""

import posixpath
import re
import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import results_page  # noqa: E402  (beside this file; MkDocs loads hooks by path)

LINK = re.compile(r"\]\(([^)\s]+)\)")


def on_files(files, config):
    for path in sorted((ROOT / "results").rglob("*")):
        if path.is_file():
            uri = path.relative_to(ROOT).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    files.append(File.generated(config, "results.md", content=results_page.render(ROOT / "results")))
    return files


def on_page_markdown(markdown, page, config, files):
    here = posixpath.dirname(page.file.src_uri)
    return LINK.sub(lambda match: f"]({_site_link(match.group(1), here)})", markdown)


def _site_link(target, here):
    """`target` as seen from page folder `here` in the site, when it points into `results/`."""
    if "://" in target or target.startswith("#"):
        return target
    path, _, anchor = target.partition("#")
    repo_path = posixpath.normpath(posixpath.join("docs", here, path))
    if repo_path == "results":
        site_path = "results.md"
    elif repo_path.startswith("results/"):
        site_path = repo_path
    else:
        return target
    link = posixpath.relpath(site_path, here or ".")
    return f"{link}#{anchor}" if anchor else link
