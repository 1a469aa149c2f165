"""A small document builder over fpdf2, shared by model cards, case files and reports."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from fpdf import FPDF, FontFace, XPos, YPos

from services.core.visible import visible

_LATIN = {"²": "2", "–": "-", "—": "-", "…": "...", "≥": ">=", "≤": "<=", "×": "x",
          "’": "'", "“": '"', "”": '"', "·": "-"}
Colour = tuple[int, int, int]
HEADER_FILL: Colour = (231, 236, 243)


def latin(text: str) -> str:
    """The PDF's built-in fonts cover Latin-1; other characters are spelled or transliterated,
    and invisible or direction-changing ones dropped (services.core.visible)."""
    spelled = "".join(_LATIN.get(ch, ch) for ch in visible(text))
    return "".join(ch if ord(ch) < 256 else
                   (unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
                    or "?") for ch in spelled)


class _Pages(FPDF):
    footer_text = ""

    def footer(self) -> None:
        # Every page says what it belongs to and where it is in the whole.
        self.set_y(-12)
        self.set_font("Helvetica", "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, latin(f"{self.footer_text}    Page {self.page_no()} of {{nb}}"),
                  align="R")
        self.set_text_color(0, 0, 0)


class Document:
    def __init__(self, title: str, *, footer: str = "") -> None:
        self.pdf = _Pages(format="A4")
        self.pdf.footer_text = footer or title
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.pdf.add_page()
        self.pdf.set_font("Helvetica", "B", 18)
        self._line(10, title)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "B", 13)
        self.pdf.set_text_color(31, 78, 121)
        self._line(8, text)
        self.pdf.set_text_color(0, 0, 0)

    def paragraph(self, text: str, *, size: int = 9, bold: bool = False) -> None:
        self.pdf.set_font("Helvetica", "B" if bold else "", size)
        self._line(size * 0.55, text)
        self.pdf.ln(1)

    def table(self, rows: Sequence[Sequence[str]], widths: Sequence[float] | None = None,
              *, fills: Sequence[dict[int, Colour]] | None = None, size: int = 9) -> None:
        """rows[0] is the header; fills[i] colours cells of data row i by column index."""
        self.pdf.set_font("Helvetica", "", size)
        with self.pdf.table(text_align="LEFT", line_height=size * 0.55,
                            col_widths=tuple(widths) if widths else None,
                            headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL)
                            ) as table:
            for index, row in enumerate(rows):
                cells = table.row()
                coloured = fills[index - 1] if fills and index > 0 else {}
                for column, cell in enumerate(row):
                    fill = coloured.get(column)
                    cells.cell(latin(str(cell)),
                               style=FontFace(fill_color=fill) if fill else None)
        self.pdf.ln(2)

    def new_page(self) -> None:
        self.pdf.add_page()

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())

    def _line(self, height: float, text: str) -> None:
        # A paragraph across the page, then back to the left margin for the next one.
        self.pdf.multi_cell(0, height, latin(text), align="L", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)
