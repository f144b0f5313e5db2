"""The explorer's HTML, CSS and script: one page, nothing loaded from anywhere.

``{title}`` and ``{data}`` are filled in by ``explorer.explore``: the data holds each view's
inline SVG (laid out once), its frames and the detail of every node. Stepping only changes
classes: ``current`` (and ``aria-current="step"``), ``pending`` (not computed yet), ``nograd``
(its gradient not known yet: its red text is hidden), ``unsent`` (an edge whose local derivative
has not been used yet).
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #222; }
header { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid #ddd;
         padding: 0.6em 1em; }
h1 { font-size: 1.2em; margin: 0 0 0.4em 0; }
nav { display: flex; gap: 0.6em; align-items: center; flex-wrap: wrap; }
nav .views button[aria-pressed="true"] { font-weight: bold; background: #cfe2f3; }
#caption { margin: 0.5em 0 0 0; font-size: 1.05em; min-height: 1.3em; }
main { display: flex; align-items: flex-start; }
#graphs { flex: 1; padding: 1em; min-width: 0; overflow-x: auto; }
#graphs svg { height: auto; }
aside { background: #fff; position: sticky; top: 7.5em; width: 24em; flex: none;
        max-height: calc(100vh - 8.5em);
        overflow: auto; padding: 0.8em; border-left: 1px solid #ddd; font-size: 0.92em; }
aside h2 { font-size: 1em; margin: 0.2em 0 0.4em 0; }
aside p { margin: 0.25em 0; font-family: Helvetica, Arial, sans-serif; }
.check { border-radius: 4px; padding: 0.4em; margin-top: 0.5em; }
.check.agrees { background: #e3f4e1; border: 1px solid #3c8d2f; }
.check.disagrees { background: #fde2e1; border: 1px solid #c0392b; }
g.node { cursor: pointer; }
g.node.pending, g.edge.pending { opacity: 0.25; }
g.nograd text[fill="#c0392b"], g.edge.unsent text { visibility: hidden; }
#view-layers g.pending text + text { visibility: hidden; }
g.edge.unsent path { stroke-opacity: 0.35; }
g.node.current polygon, g.node.current path, g.node.current ellipse {
  stroke: #e66100; stroke-width: 4px; }
g.node:focus { outline: 2px dashed #1f3f7a; }
#curve { width: 100%; height: auto; }
</style>
</head>
<body>
<header>
<h1>{title}</h1>
<nav>
<span class="views"><button type="button" id="show-ops">Op view</button>
<button type="button" id="show-layers">Layer view</button></span>
<button type="button" id="previous">← previous</button>
<input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
<button type="button" id="next">next →</button>
<span id="position"></span>
</nav>
<p id="caption" aria-live="polite"></p>
</header>
<main>
<div id="graphs"><div id="view-ops"></div><div id="view-layers"></div></div>
<aside>
<section id="training" hidden>
<h2>Training</h2>
<svg id="curve" viewBox="0 0 320 130" role="img" aria-label="cost during training"></svg>
<input id="iteration" type="range" min="0" max="0" value="0" aria-label="recorded iteration">
<p id="iteration-text"></p>
<div id="iteration-rows"></div>
</section>
<section id="detail"><h2>Click a node</h2><p>to see its chain-rule step with the numbers and a
gradient check. Keys ← and → step through the pass.</p></section>
</aside>
</main>
<script type="application/json" id="explorer-data">{data}</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("explorer-data").textContent);
const holders = { ops: document.getElementById("view-ops"), layers: document.getElementById("view-layers") };
const slider = document.getElementById("slider");
let viewName = data.start;
let index = 0;
for (const name of Object.keys(holders)) {
  if (data.views[name]) holders[name].innerHTML = data.views[name].svg;
  else document.getElementById("show-" + name).hidden = true;
}
// A picture up to 1.4 times its column's width is scaled to fit; a wider one keeps its size
// (its text would shrink out of reading) and scrolls, the active node kept in view.
function fit() {
  for (const holder of Object.values(holders)) {
    const svg = holder.querySelector("svg");
    if (!svg) continue;
    const width = svg.width.baseVal.value, room = document.getElementById("graphs").clientWidth - 32;
    svg.style.maxWidth = width < 1.4 * room ? "100%" : "none";
  }
}
function tensorKey(key) { return key.startsWith("op") ? "t" + key.slice(2) : key; }
function show(i) {
  const view = data.views[viewName];
  index = Math.max(0, Math.min(view.frames.length - 1, i));
  const frame = view.frames[index];
  const root = holders[viewName];
  const values = new Set(frame.values), grads = new Set(frame.grads), sent = new Set(frame.sent);
  document.querySelectorAll("[aria-current]").forEach((node) => node.removeAttribute("aria-current"));
  root.querySelectorAll("g.node").forEach((node) => {
    const key = tensorKey(node.dataset.key);
    node.classList.toggle("pending", key !== "legend" && !values.has(key));
    node.classList.toggle("nograd", !grads.has(key));
    node.classList.remove("current");
  });
  if (viewName === "ops") {
    root.querySelectorAll("g.edge").forEach((edge) => {
      const [from, to] = edge.dataset.key.split("-to-");
      edge.classList.toggle("unsent", !sent.has(edge.dataset.key));
      edge.classList.toggle("pending", !values.has(tensorKey(from)) || !values.has(tensorKey(to)));
    });
  }
  const current = document.getElementById(viewName + "-" + frame.node);
  current.classList.add("current");
  current.setAttribute("aria-current", "step");
  current.scrollIntoView({ block: "center", inline: "center" });
  document.getElementById("caption").textContent = frame.caption;
  slider.max = view.frames.length - 1;
  slider.value = index;
  document.getElementById("position").textContent = (index + 1) + " / " + view.frames.length;
}
function choose(name) {
  viewName = name;
  for (const other of Object.keys(holders)) {
    holders[other].hidden = other !== name;
    document.getElementById("show-" + other).setAttribute("aria-pressed", String(other === name));
  }
  show(0);
}
function detail(key) {
  const found = data.views[viewName].details[key];
  if (!found) return;
  const box = document.getElementById("detail");
  box.replaceChildren();
  found.lines.forEach((line, i) => {
    const element = document.createElement(i === 0 ? "h2" : "p");
    element.textContent = line;
    box.append(element);
  });
  if (found.check) {
    const check = document.createElement("div");
    check.className = "check " + (found.check.agrees ? "agrees" : "disagrees");
    const heading = document.createElement("p");
    heading.textContent = found.check.agrees ? "Gradient check: autograd agrees with central differences"
                                             : "Gradient check: autograd and central differences disagree";
    check.append(heading);
    for (const row of found.check.rows) {
      const p = document.createElement("p");
      p.textContent = row;
      check.append(p);
    }
    box.append(check);
  }
}
for (const name of Object.keys(holders)) {
  holders[name].addEventListener("click", (event) => {
    const node = event.target.closest("g.node");
    if (node) detail(node.dataset.key);
  });
  holders[name].addEventListener("keydown", (event) => {
    const node = event.target.closest("g.node");
    if (node && event.key === "Enter") detail(node.dataset.key);
  });
  document.getElementById("show-" + name).onclick = () => choose(name);
}
document.getElementById("previous").onclick = () => show(index - 1);
document.getElementById("next").onclick = () => show(index + 1);
slider.oninput = () => show(Number(slider.value));
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement) return;
  if (event.key === "ArrowLeft") { show(index - 1); event.preventDefault(); }
  if (event.key === "ArrowRight") { show(index + 1); event.preventDefault(); }
});
function training(run) {
  document.getElementById("training").hidden = false;
  const curve = document.getElementById("curve");
  const first = run.iterations[0], last = run.iterations[run.iterations.length - 1];
  const low = Math.min(...run.costs), high = Math.max(...run.costs);
  const x = (i) => 30 + 280 * (i - first) / Math.max(1, last - first);
  const y = (c) => 10 + 100 * (high - c) / Math.max(1e-12, high - low);
  const svg = (tag, attributes) => {
    const element = document.createElementNS(curve.namespaceURI, tag);
    for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, v);
    curve.append(element);
    return element;
  };
  svg("polyline", { points: run.iterations.map((i, k) => x(i) + "," + y(run.costs[k])).join(" "),
                    fill: "none", stroke: "#1f3f7a", "stroke-width": 2 });
  svg("text", { x: 30, y: 126, "font-size": 10 }).textContent = "iteration " + first;
  svg("text", { x: 310, y: 126, "font-size": 10, "text-anchor": "end" }).textContent = String(last);
  const marker = svg("circle", { r: 5, fill: "#e66100" });
  const scrub = document.getElementById("iteration");
  scrub.max = run.snapshots.length - 1;
  const pick = (k) => {
    const snapshot = run.snapshots[k];
    marker.setAttribute("cx", x(snapshot.iteration));
    marker.setAttribute("cy", y(snapshot.value));
    document.getElementById("iteration-text").textContent =
      "Iteration " + snapshot.iteration + ": cost J = " + snapshot.cost;
    // The layer view at this iteration: each block's last lines are its numbers.
    for (const [key, lines] of Object.entries(snapshot.blocks)) {
      const texts = [...document.querySelectorAll("#layers-" + key + " text")].slice(-lines.length);
      if (lines.length) texts.forEach((text, i) => { text.textContent = lines[i]; });
    }
    const rows = document.getElementById("iteration-rows");
    rows.replaceChildren(...snapshot.rows.map((row) => {
      const p = document.createElement("p");
      p.textContent = row;
      return p;
    }));
  };
  scrub.oninput = () => pick(Number(scrub.value));
  scrub.value = scrub.max;           // the pictures show the step after training until one scrubs
  marker.setAttribute("cx", x(last));
  marker.setAttribute("cy", y(run.costs[run.costs.length - 1]));
  document.getElementById("iteration-text").textContent =
    "The pictures show the step after training; drag the slider (or focus it and press ← →, Home, End) " +
    "to see a recorded iteration.";
}
if (data.training) training(data.training);
fit();
choose(viewName);
</script>
</body>
</html>
"""
