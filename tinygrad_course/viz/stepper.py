"""Backprop as one self-contained HTML page: a frame per step, buttons, a slider, the arrow keys."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .. import _checks
from ..tensor import Tensor
from .numbers import esc
from .render import write_file
from .views import steps


def save_steps(t: Tensor, path: str | os.PathLike[str] = "backprop.html", **options: Any) -> Path:
    """One self-contained HTML page that steps through backprop: previous/next buttons, a slider.

    The frames are inline SVG; the page loads nothing from the network and names no URL.
    """
    path = _checks.path(path, "save_steps(path)")
    frames = steps(t, **options)
    pictures = []
    for index, frame in enumerate(frames):
        svg = frame.pipe("svg").decode("utf-8")
        svg = svg[svg.index("<svg"):]          # drop the XML prolog and DOCTYPE: inline SVG
        # HTML knows inline SVG (and xlink:title) without namespace declarations: the page then
        # holds no URL at all, not even the namespace names that look like one.
        svg = _XMLNS.sub("", svg)
        hidden = "" if index == 0 else " hidden"
        pictures.append(f'<figure class="frame"{hidden}><figcaption>{esc(frame.caption)}</figcaption>'
                        f"\n{svg}</figure>")
    page = _PAGE.replace("{count}", str(len(frames))).replace("{last}", str(len(frames) - 1))
    write_file(path, page.replace("{frames}", "\n".join(pictures)).encode("utf-8"), "save_steps")
    return path


_XMLNS = re.compile(r"""\s+xmlns(?::\w+)?\s*=\s*("[^"]*"|'[^']*')""")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backprop, step by step</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; }
nav { display: flex; gap: 0.8em; align-items: center; margin-bottom: 1em; }
input[type=range] { width: 20em; }
figcaption { font-size: 1.1em; margin-bottom: 0.5em; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>Backprop, step by step</h1>
<p>One frame per tensor, in the order backward() visits them: the orange node's gradient is complete.
Keys ← and → step too.</p>
<nav>
<button id="previous" type="button">← previous</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="frame">
<button id="next" type="button">next →</button>
<span id="position">1 / {count}</span>
</nav>
{frames}
<script>
const frames = document.querySelectorAll(".frame");
const slider = document.getElementById("slider");
function show(index) {
  index = Math.max(0, Math.min(frames.length - 1, index));
  frames.forEach((frame, i) => { frame.hidden = i !== index; });
  slider.value = index;
  document.getElementById("position").textContent = (index + 1) + " / " + frames.length;
}
document.getElementById("previous").onclick = () => show(Number(slider.value) - 1);
document.getElementById("next").onclick = () => show(Number(slider.value) + 1);
slider.oninput = () => show(Number(slider.value));
document.addEventListener("keydown", (event) => {
  if (event.key === "ArrowLeft") show(Number(slider.value) - 1);
  if (event.key === "ArrowRight") show(Number(slider.value) + 1);
});
</script>
</body>
</html>
"""
