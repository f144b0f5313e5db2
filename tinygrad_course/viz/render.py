"""DOT text to a picture: finding a renderer, running it, and the ``Graph`` that holds the text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from .. import _checks
from ..errors import FileAccessError, InputTypeError, InputValueError, TinygradCourseError


class RendererNotFoundError(TinygradCourseError, RuntimeError):
    """Neither ``graphviz-pure`` nor Graphviz's ``dot`` could be found to draw the DOT text."""


class RenderError(TinygradCourseError, RuntimeError):
    """The renderer ran but failed; the message carries what it printed on stderr."""


PNG_DPI = 144  # graphviz's 96 dpi makes subscripts and small numbers hard to read
# graphviz-pure's PNG fonts lack a few glyphs that SVG viewers have. The elementwise product ⊙
# becomes ○, the other common sign for the Hadamard product (A ∘ B), which those fonts have: a
# learner reads dA1 ○ (1 − A1²) as a product, where the former * read as a footnote.
_PNG_GLYPHS = str.maketrans({"⊙": "○", "⋯": "…"})


# --------------------------------------------------------------------------- rendering


def _scripts_directories() -> list[Path]:
    """Where ``pip install graphviz-pure`` puts its executable for the running Python."""
    directories = [Path(sys.executable).parent]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        directories.append(Path(scripts))
    return directories


def find_renderer(format: str = "svg") -> str:
    """The program that turns DOT into a picture: ``graphviz-pure`` next to this Python, then on
    PATH, then a system Graphviz ``dot``. PDF needs the system ``dot`` (graphviz-pure has none).
    """
    if format != "pdf":
        for directory in _scripts_directories():
            found = shutil.which("graphviz-pure", path=str(directory))
            if found:
                return found
        found = shutil.which("graphviz-pure")
        if found:
            return found
    found = shutil.which("dot")
    if found:
        return found
    if format == "pdf":
        raise RendererNotFoundError(
            "saving as .pdf needs Graphviz's own 'dot' program (graphviz-pure renders svg and png, "
            "not pdf), and there is no 'dot' on PATH. Install Graphviz (e.g. apt install graphviz, "
            "brew install graphviz), or save as .svg or .png instead."
        )
    looked = ", ".join(str(d) for d in _scripts_directories())
    raise RendererNotFoundError(
        "no graph renderer found: looked for 'graphviz-pure' next to this Python "
        f"({looked}) and on PATH, and for Graphviz's 'dot' on PATH. Fix either way: "
        f"'{Path(sys.executable).name} -m pip install graphviz-pure' (a renderer wheel, no system "
        "install), or install Graphviz (apt install graphviz, brew install graphviz, ...). The DOT "
        "text works without either: graph.source, or graph.save('graph.dot')."
    )


_FORMATS = ("svg", "png", "pdf", "dot")


class Graph:
    """A picture of a computation graph: its DOT ``source``, rendered when saved or displayed.

    ``save("g.svg")`` / ``.png`` / ``.pdf`` / ``.dot`` (the format comes from the suffix); in
    Jupyter it shows itself inline as SVG. ``renderer_messages`` keeps what the renderer printed
    on stderr the last time (font warnings, mostly).
    """

    def __init__(self, source: str, caption: str = "") -> None:
        self.source = source
        self.caption = caption
        self.renderer_messages = ""

    def __repr__(self) -> str:
        nodes = len(re.findall(r"^\t(?!node |edge |legend )\w+ \[", self.source, flags=re.M))
        return f"<Graph with {nodes} nodes: .source is the DOT text; .save('graph.svg') draws it>"

    def pipe(self, format: str = "svg") -> bytes:
        """The picture as bytes, in ``format`` ("svg", "png" or "pdf")."""
        if not isinstance(format, str) or format not in _FORMATS[:3]:
            raise InputValueError(f"Graph.pipe(format={format!r}): expected 'svg', 'png' or 'pdf'.")
        program = find_renderer(format)
        command = [program, f"-T{format}"] + ([f"-Gdpi={PNG_DPI}"] if format == "png" else [])
        try:
            source = self.source.translate(_PNG_GLYPHS) if format == "png" else self.source
            done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                                  timeout=300, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"{program} took more than 300 s to draw this graph; pass a smaller "
                              "max_nodes to graph() to collapse more of it.") from None
        self.renderer_messages = done.stderr.decode("utf-8", "replace")
        if done.returncode != 0 or not done.stdout:
            raise RenderError(f"{program} -T{format} failed (exit code {done.returncode}): "
                              f"{self.renderer_messages.strip() or 'no message'}")
        return done.stdout

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the picture; the format is the suffix (.svg, .png, .pdf, .dot) unless given."""
        path = _checks.path(path, "Graph.save(path)")
        if format is not None and not isinstance(format, str):
            raise InputTypeError(f"Graph.save(format={format!r}): expected 'svg', 'png', 'pdf' or 'dot'.")
        chosen = (format or path.suffix.lstrip(".")).lower()
        if chosen == "gv":
            chosen = "dot"
        if chosen not in _FORMATS:
            raise InputValueError(f"Graph.save({str(path)!r}): cannot tell the format from the suffix "
                                  f"{path.suffix!r}; use .svg, .png, .pdf or .dot (or format=...).")
        content = self.source.encode("utf-8") if chosen == "dot" else self.pipe(chosen)
        write_file(path, content, "Graph.save")
        return path

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode("utf-8")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self._repr_svg_()}
        except (RendererNotFoundError, RenderError) as error:
            return {"text/plain": f"{error}\n\nThe DOT text:\n{self.source}"}


def write_file(path: Path, content: bytes, what: str) -> None:
    """Write a picture or page, making its folder as ``Module.save`` does; OS refusals named."""
    if path.is_dir():
        raise InputValueError(f"{what}({str(path)!r}): that is a folder; expected a file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as error:  # a file where a folder should be, no permission, ...
        raise FileAccessError(f"{what}({str(path)!r}): cannot write there: {error}") from None
