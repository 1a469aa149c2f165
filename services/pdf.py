"""A small document builder over fpdf2, shared by model cards and case files."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from fpdf import FPDF, XPos, YPos

_LATIN = {"²": "2", "–": "-", "—": "-", "…": "...", "≥": ">=", "≤": "<=", "×": "x",
          "’": "'", "“": '"', "”": '"', "·": "-"}


def latin(text: str) -> str:
    """The PDF's built-in fonts cover Latin-1; other characters are spelled or transliterated."""
    spelled = "".join(_LATIN.get(ch, ch) for ch in text)
    return "".join(ch if ord(ch) < 256 else
                   (unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
                    or "?") for ch in spelled)


class Document:
    def __init__(self, title: str) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.pdf.set_font("Helvetica", "B", 18)
        self._line(10, title)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "B", 13)
        self._line(8, text)

    def paragraph(self, text: str, *, size: int = 9) -> None:
        self.pdf.set_font("Helvetica", "", size)
        self._line(size * 0.55, text)
        self.pdf.ln(1)

    def table(self, rows: Sequence[Sequence[str]],
              widths: Sequence[float] | None = None) -> None:
        """rows[0] is the header."""
        self.pdf.set_font("Helvetica", "", 9)
        with self.pdf.table(text_align="LEFT", line_height=5,
                            col_widths=tuple(widths) if widths else None) as table:
            for row in rows:
                cells = table.row()
                for cell in row:
                    cells.cell(latin(str(cell)))

    def new_page(self) -> None:
        self.pdf.add_page()

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())

    def _line(self, height: float, text: str) -> None:
        # A paragraph across the page, then back to the left margin for the next one.
        self.pdf.multi_cell(0, height, latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
