"""The Figure that ``tinygrad_course.plots`` returns: matplotlib's, plus its own PNG for Jupyter.

Imported only when a plot is drawn (it imports matplotlib). The figures are drawn on the Agg
canvas without pyplot, so no backend shows them; ``_repr_png_`` lets IPython show one as an
image when it is a cell's last value, in any notebook and with no ``%matplotlib`` magic.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

#: Pixels per inch of the pictures, inline and saved: a 6 × 4 inch plot is 600 × 400 pixels.
DPI = 100


class CourseFigure(Figure):
    """A ``matplotlib.figure.Figure`` that displays itself inline as a PNG in Jupyter."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()
