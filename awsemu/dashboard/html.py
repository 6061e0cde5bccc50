"""
The dashboard's HTML: plain server-side strings, every value escaped on
the way in. Pages are small tables and forms; ``static/dashboard.js``
adds the live parts (the request table, a log tail).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Final
from urllib.parse import urlencode

#: The dashboard's sections, in the navigation bar's order: path, title.
SECTIONS: Final = (
    ("", "Overview"),
    ("s3", "S3"),
    ("dynamodb", "DynamoDB"),
    ("lambda", "Lambda"),
    ("apigateway", "API Gateway"),
    ("logs", "Logs"),
    ("iam", "IAM"),
)

ROOT: Final = "/_awsemu/"


class Markup(str):
    """
    HTML already made safe: ``text`` leaves it as it is. Adding anything
    but markup to it is a mistake (plain ``str`` would lose the mark, and
    escaping the other text would be a guess), so it raises TypeError.
    """

    def __add__(self, other: str) -> Markup:
        if not isinstance(other, Markup):
            return NotImplemented
        return Markup(str.__add__(self, other))


def text(value: object) -> Markup:
    """``value`` as HTML: markup as it is, anything else escaped."""
    if isinstance(value, Markup):
        return value
    return Markup(escape("" if value is None else str(value)))


def when(value: object, *, millis: bool = False) -> str:
    """A timestamp as the providers give it (epoch seconds, or ms), as UTC text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    seconds = value / 1000 if millis else value
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def join(parts: Iterable[object]) -> Markup:
    return Markup("".join(text(part) for part in parts))


def url(path: str, **query: object) -> str:
    """A dashboard address: ``path`` under the root, with the query's non-empty values."""
    kept = {name: str(value) for name, value in query.items() if value not in (None, "")}
    return ROOT + path + ("?" + urlencode(kept) if kept else "")


def link(href: str, label: object, **attributes: str) -> Markup:
    extra = "".join(f' {name}="{escape(value)}"' for name, value in attributes.items())
    return Markup(f'<a href="{escape(href)}"{extra}>{text(label)}</a>')


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], id: str = "") -> Markup:
    head = join(Markup(f"<th>{text(name)}</th>") for name in headers)
    body = join(
        Markup("<tr>" + "".join(f"<td>{text(cell)}</td>" for cell in row) + "</tr>") for row in rows
    )
    ident = f' id="{escape(id)}"' if id else ""
    return Markup(f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def definitions(pairs: Mapping[str, object]) -> Markup:
    return Markup(
        "<dl>"
        + "".join(f"<dt>{text(name)}</dt><dd>{text(value)}</dd>" for name, value in pairs.items())
        + "</dl>"
    )


def pretty(document: object) -> Markup:
    """A JSON document, indented, in a ``<pre>``."""
    return Markup(f"<pre>{text(json.dumps(document, indent=2, default=str))}</pre>")


def section(title: str, *content: object) -> Markup:
    return Markup(f"<section><h2>{text(title)}</h2>{join(content)}</section>")


def error(message: object) -> Markup:
    return Markup(f'<p class="error">{text(message)}</p>')


def hidden(name: str, value: object) -> Markup:
    return Markup(f'<input type="hidden" name="{escape(name)}" value="{text(value)}">')


def next_page(href: str | None) -> Markup:
    return (
        Markup("") if href is None else Markup(f'<p class="more">{link(href, "Next page →")}</p>')
    )


def page(
    title: str,
    current: str,
    body: object,
    *,
    scope: tuple[str, str],
    scopes: Iterable[tuple[str, str]] = (),
    signed_in: bool = True,
) -> bytes:
    """A whole page: navigation, the account/region selector, ``body``."""
    nav = join(
        link(ROOT + path, name, **({"class": "current"} if path == current else {}))
        for path, name in SECTIONS
    )
    options = join(
        Markup(
            f'<option value="{text(a)}/{text(r)}"'
            + (" selected" if (a, r) == scope else "")
            + f">{text(a)} · {text(r)}</option>"
        )
        for a, r in sorted(set(scopes) | {scope})
    )
    selector = Markup(
        f'<form class="scope" method="get" action="{ROOT}scope">'
        f'<select name="scope" onchange="this.form.submit()">{options}</select>'
        f'<input type="hidden" name="back" value="{text(ROOT + current)}">'
        "<noscript><button>Go</button></noscript></form>"
    )
    logout = (
        Markup(f'<form method="post" action="{ROOT}logout"><button>Sign out</button></form>')
        if signed_in
        else Markup("")
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{text(title)} · awsemu</title>'
        f'<link rel="stylesheet" href="{ROOT}static/dashboard.css">'
        f'<script defer src="{ROOT}static/dashboard.js"></script></head>'
        f"<body><header><strong>awsemu</strong><nav>{nav}</nav>{selector}{logout}</header>"
        f"<main><h1>{text(title)}</h1>{text(body)}</main></body></html>"
    ).encode()
