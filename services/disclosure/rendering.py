"""Policy bodies: Markdown rendered to HTML that is safe to serve as is.

CommonMark with tables, raw HTML disabled (it is escaped, never passed through) and links
limited to the schemes markdown-it validates (no `javascript:`): what a regulator writes can
only ever be text, links, lists, tables and emphasis on the public pages.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def to_html(markdown: str) -> str:
    return str(_MARKDOWN.render(markdown))
