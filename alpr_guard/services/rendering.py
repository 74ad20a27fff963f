"""Public documents as HTML, Markdown and PDF from Jinja2 templates shipped with the package.

HTML is autoescaped (configuration text is data, never markup); Markdown escapes its own
special characters; PDF is laid out with fpdf2, a pure-Python library, so rendering needs no
network, browser or system fonts. Its built-in fonts are Latin-1 only, so other characters are
transliterated (dashes, quotes) or replaced before layout.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
_LATIN1 = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2265": ">=",
        "\u2264": "<=",
    }
)


def md_escape(value: object) -> str:
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("alpr_guard", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def latin1(text: str) -> str:
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


class PdfWriter:
    """A small flowing-text PDF: a title, headings, paragraphs, bullets and tables."""

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="Letter")
        self.pdf.set_title(latin1(title))
        self.pdf.set_creator("alpr_guard")
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.pdf.set_margins(18, 18, 18)
        self.pdf.add_page()

    def title(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "B", 15)
        self.pdf.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def heading(self, text: str, cite: str | None = None) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "B", 12)
        self.pdf.multi_cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")
        if cite:
            self.pdf.set_font("Helvetica", "I", 8)
            self.pdf.multi_cell(0, 4, latin1(cite), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def paragraph(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 10)
        self.pdf.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def bullet(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 10)
        self.pdf.set_x(self.pdf.l_margin + 4)
        self.pdf.multi_cell(0, 5, latin1("- " + text), new_x="LMARGIN", new_y="NEXT")

    def table(self, rows: tuple[tuple[str, ...], ...]) -> None:
        if not rows:
            return
        self.pdf.set_font("Helvetica", "", 9)
        with self.pdf.table(first_row_as_headings=True, line_height=5) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(latin1(value))
        self.pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
