"""Which nodes a picture draws, which the size guard collapses into boxes, and which way it runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InputValueError
from ..tensor import Tensor
from .names import Walk

LR_MAX_DEPTH = 4  # ops on the longest path for which a graph is drawn left to right


# --------------------------------------------------------------------------- size guard


# The course's per-layer names: W1, b1, Z1, A1 (also W[1], W^[1]); A0 is X, outside the layers.
_LAYER_NAME = re.compile(r"(?:W|b|Z|A)\^?\[?([1-9]\d*)\]?")


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class Group:
    """Nodes drawn as one box, with the reason they were collapsed."""

    reason: str
    members: list[str] = field(default_factory=list)
    title: str = ""              # "layer 1", or the scope "encoder" of encoder.W, encoder.b
    result: int | None = None    # a fused linear node: the number of the tensor it computes


class Layout:
    """Which DOT nodes exist, and which of them are drawn as one collapsed box."""

    def __init__(self, walk: Walk, max_nodes: int | None, protected: set[int], fuse: bool = False) -> None:
        self.walk = walk
        self.protected = protected | {id(walk.root)}
        self.nodes: list[str] = []
        # (source, target, input position): x·x feeds one op twice, as inputs 0 and 1.
        self.edges: list[tuple[str, str, int]] = []
        for k, t in enumerate(walk.tensors):
            self.nodes.append(f"t{k}")
            if t.grad_fn is not None:
                self.nodes.append(f"op{k}")
                self.edges.extend((f"t{walk.k(p)}", f"op{k}", i) for i, p in enumerate(t.grad_fn.parents))
                self.edges.append((f"op{k}", f"t{k}", 0))
        self.groups: dict[str, Group] = {}
        self._boxes_made = 0
        self.drawn_as = {node: node for node in self.nodes}
        self.note = ""
        if fuse:
            self._fuse_linear()
        if max_nodes is None or len(self.nodes) <= max_nodes:
            return
        # Boring stretches first (unnamed steps outside the layers, such as a loss spelled out
        # op by op), then whole layers from the first, then whatever is farthest from the output.
        self.keys = self._layer_keys()
        for collapse in (self._collapse_chains, self._collapse_unnamed, self._collapse_layers):
            collapse(max_nodes)
            if self.count() <= max_nodes:
                break
        else:
            self._collapse_far_from_output(max_nodes)
        layers = [g.title for g in self.groups.values() if g.title]
        others = list(dict.fromkeys(g.reason for g in self.groups.values() if not g.title))
        if layers and all(re.fullmatch(r"layer \d+", title) for title in layers) and len(layers) > 1:
            layers = ["layers " + and_list([title.removeprefix("layer ") for title in layers])]
        one = len(layers) == 1 and not layers[0].startswith("layers ")
        parts = ([f"{and_list(layers)} {'is drawn as one box' if one else 'are drawn as one box each'}"]
                 if layers else []) + ([f"{and_list(others)} are collapsed into … boxes"] if others else [])
        # Two lines, so that the note does not make the picture wider than the graph.
        self.note = (f"Size guard: {len(self.nodes)} nodes are more than max_nodes = {max_nodes}, so "
                     f"{'; '.join(parts)}.\n{self.count()} nodes are drawn; "
                     "pass max_nodes=None to draw every node.")

    def _linear_terms(self, t: Tensor, top: bool) -> list[Tensor] | None:
        """The tensors inside ``t = w1·x1 + w2·x2 + b`` (sums and products of leaves), or None
        when ``t`` is not such a combination; inner steps must be used once and not asked for."""
        node = t.grad_fn
        if node is None:
            return []
        if not top and (self.walk.uses[self.walk.k(t)] != 1 or id(t) in self.protected):
            return None
        if node.op.name == "mul" and all(p.grad_fn is None for p in node.parents):
            return [t]
        if node.op.name != "add":
            return None
        inner = [self._linear_terms(p, top=False) for p in node.parents]
        if any(part is None for part in inner):
            return None
        return [t, *(x for part in inner for x in part)]  # type: ignore[union-attr]

    def _fuse_linear(self) -> None:
        """Draw each linear combination z = w1x1 + w2x2 + b as one op node, as the lesson does.
        From the output back, so that the whole sum is fused before its inner w1x1 + w2x2."""
        for t in reversed(self.walk.tensors):
            if t.grad_fn is None or t.grad_fn.op.name != "add":
                continue
            inside = self._linear_terms(t, top=True)
            numbers = [self.walk.k(x) for x in inside or []]
            if len(numbers) < 3 or any(self.drawn_as[f"op{n}"] in self.groups for n in numbers):
                continue
            k = numbers[0]
            members = [f"op{k}"] + [m for n in numbers[1:] for m in (f"t{n}", f"op{n}")]
            self._merge(members, "fused")
            self.groups[self.drawn_as[f"op{k}"]].result = k

    def count(self) -> int:
        return len(set(self.drawn_as.values()))

    def _merge(self, members: list[str], reason: str, title: str = "") -> None:
        """Draw ``members`` as one new box; boxes they already belong to are absorbed whole."""
        name = f"g{self._boxes_made}"
        self._boxes_made += 1
        group = Group(reason, title=title)
        for member in members:                 # a node, or a box drawn already
            drawn = self.drawn_as.get(member, member)
            if drawn in self.groups:
                for absorbed in self.groups.pop(drawn).members:
                    self.drawn_as[absorbed] = name
                    group.members.append(absorbed)
            elif drawn == member:
                self.drawn_as[member] = name
                group.members.append(member)
        self.groups[name] = group

    def _unnamed(self, t: Tensor) -> bool:
        """An unnamed intermediate that no one asked to see: a candidate for a box."""
        return t.grad_fn is not None and not t.name and id(t) not in self.protected

    def _with_op(self, t: Tensor) -> list[str]:
        """A tensor, the op that made it, and the constants only that op uses."""
        k = self.walk.k(t)
        members = [f"t{k}", f"op{k}"]
        assert t.grad_fn is not None
        members += [f"t{self.walk.k(p)}" for p in t.grad_fn.parents if self.walk.is_private_constant(p)]
        return members

    def _main_parent(self, t: Tensor) -> Tensor | None:
        assert t.grad_fn is not None
        others = [p for p in t.grad_fn.parents if not self.walk.is_private_constant(p)]
        return others[0] if len(others) == 1 else None

    def _collapse_chains(self, max_nodes: int) -> None:
        """Runs of unnamed one-input steps (x → exp → log → ...) become one box each."""
        walk = self.walk
        links = {id(t) for t in walk.tensors
                 if self._unnamed(t) and walk.uses[walk.k(t)] == 1 and self._main_parent(t) is not None}
        chains: list[list[Tensor]] = []
        for t in walk.tensors:                  # topological order: a chain's start comes first
            if id(t) not in links:
                continue
            parent = self._main_parent(t)
            if chains and parent is chains[-1][-1]:
                chains[-1].append(t)
            else:
                chains.append([t])
        for chain in chains:
            if len(chain) >= 3:
                self._merge([m for t in chain for m in self._with_op(t)], "long chains")

    def _layer_keys(self) -> list[str | None]:
        """Each tensor's layer: W1, b1, Z1, A1 are "layer 1" (the course's names), encoder.W and
        encoder.b the scope "encoder". An unnamed result joins the layer of its parameter: W2 @ A1
        is layer 2, W1 @ X + b1 layer 1; other unnamed results (a loss) belong to no layer."""
        walk = self.walk
        keys: list[str | None] = []
        for t in walk.tensors:
            key = None
            if t.name:
                course = _LAYER_NAME.fullmatch(t.name)
                if course:
                    key = f"layer {int(course.group(1))}"
                elif "." in t.name:
                    key = t.name.rsplit(".", 1)[0]
            elif t.grad_fn is not None:
                owners = [keys[walk.k(p)] for p in t.grad_fn.parents
                          if keys[walk.k(p)] is not None and p.grad_fn is None]
                key = owners[0] if owners else None
            keys.append(key)
        return keys

    def _collapse_layers(self, max_nodes: int) -> None:
        """Whole layers become one box each, the first layer first, until the graph fits; the last
        layer (with the loss) stays drawn, and so does everything outside the layers (X, Y, J)."""
        walk, keys = self.walk, self.keys
        members: dict[str, list[str]] = {}
        last_computed: dict[str, int] = {}
        for k, (t, key) in enumerate(zip(walk.tensors, keys, strict=True)):
            if key is None or id(t) in self.protected:
                continue
            if t.grad_fn is None:
                members.setdefault(key, []).append(f"t{k}")
            else:
                members.setdefault(key, []).extend(self._with_op(t))
                last_computed[key] = k
        # Layers in the order they are computed; one with no computation (a lone W) last.
        order = sorted(members, key=lambda key: last_computed.get(key, len(walk.tensors)))
        for key in order[:-1]:
            if self.count() <= max_nodes:
                break
            if len(members[key]) > 1:
                self._merge(members[key], "layers" if key.startswith("layer ") else "name scopes", key)

    def _collapse_unnamed(self, max_nodes: int) -> None:
        """Each connected stretch of unnamed intermediates outside the layers becomes one box."""
        walk = self.walk
        leader: dict[str, str] = {}

        def find(node: str) -> str:
            while leader.setdefault(node, node) != node:
                node = leader[node]
            return node

        unnamed = [t for t in walk.tensors if self._unnamed(t) and self.keys[walk.k(t)] is None]
        unnamed_ids = {id(t) for t in unnamed}
        for t in unnamed:
            members = self._with_op(t)
            members += [f"t{walk.k(p)}" for p in t.grad_fn.parents if id(p) in unnamed_ids]  # type: ignore[union-attr]
            for member in members[1:]:
                leader[find(member)] = find(members[0])
        stretches: dict[str, list[str]] = {}
        for node in self.nodes:                # in drawing order, so the boxes come out the same every time
            if node in leader:
                stretches.setdefault(find(node), []).append(node)
        for members in stretches.values():
            tensors = [walk.tensors[node_number(m)] for m in members if m.startswith("t")]
            if sum(1 for t in tensors if id(t) in unnamed_ids) >= 2:
                self._merge(members, "unnamed steps")

    def _collapse_far_from_output(self, max_nodes: int) -> None:
        """Keep what is nearest the output; the rest of the graph becomes one box."""
        feeds: dict[str, list[str]] = {}
        for source, target, _ in self.edges:
            feeds.setdefault(self.drawn_as[target], []).append(self.drawn_as[source])
        keep = [self.drawn_as[f"t{self.walk.k(self.walk.root)}"]]
        keep += [self.drawn_as[f"t{self.walk.k(t)}"] for t in self.walk.tensors if id(t) in self.protected]
        kept = set(keep)
        queue = list(keep)
        while queue and len(kept) < max_nodes - 1:
            for source in feeds.get(queue.pop(0), []):
                if source not in kept and len(kept) < max_nodes - 1:
                    kept.add(source)
                    queue.append(source)
        rest = list(dict.fromkeys(d for d in self.drawn_as.values() if d not in kept))
        if rest:
            self._merge(rest, "the part farthest from the output")

    def drawn_edges(self) -> list[tuple[str, str, str, int, bool]]:
        """(drawn source, drawn target, original target, input position, whether it is the only
        edge drawn as this one); edges inside a box dropped, edges to or from a box drawn once."""
        seen: dict[tuple[str, str], int] = {}
        result = []
        for source, target, position in self.edges:
            a, b = self.drawn_as[source], self.drawn_as[target]
            collapsed = a in self.groups or b in self.groups
            if a == b:
                continue
            if collapsed and (a, b) in seen:
                seen[(a, b)] += 1
                continue
            seen[(a, b)] = 1
            result.append((a, b, target, position))
        return [(a, b, target, position, seen[(a, b)] == 1) for a, b, target, position in result]


def direction(walk: Walk, rankdir: str | None) -> str:
    """Left to right as in the lesson while the graph is shallow; deeper graphs read better top to
    bottom, where boxes and derivative labels sit side by side instead of stretching one line."""
    if rankdir is not None:
        return rankdir
    depth: dict[int, int] = {}
    for t in walk.tensors:
        parents = t.grad_fn.parents if t.grad_fn is not None else ()
        depth[id(t)] = 1 + max((depth[id(p)] for p in parents), default=-1)
    return "LR" if depth[id(walk.root)] <= LR_MAX_DEPTH else "TB"


def paths_to_output(walk: Walk, layout: Layout,
                     sources: list[Tensor]) -> tuple[set[str], set[tuple[str, str]]]:
    """The nodes and edges on some path from a highlighted tensor to the output."""
    for t in sources:
        if id(t) not in walk.number:
            name = f"'{t.name}'" if t.name else f"of shape {t.shape}"
            raise InputValueError(f"graph(highlight=...): the tensor {name} is not part of this graph "
                                  "(the output does not depend on it).")
    reached = {id(t) for t in sources}
    for t in walk.tensors:                     # parents come first, so one pass finds descendants
        if t.grad_fn is not None and any(id(p) in reached for p in t.grad_fn.parents):
            reached.add(id(t))
    ancestors = {id(walk.root)}
    for t in reversed(walk.tensors):
        if id(t) in ancestors and t.grad_fn is not None:
            ancestors.update(id(p) for p in t.grad_fn.parents)
    on_path = reached & ancestors
    nodes, edges = set(), set()
    for t in walk.tensors:
        if id(t) not in on_path:
            continue
        k = walk.k(t)
        nodes.add(layout.drawn_as[f"t{k}"])
        if t.grad_fn is not None and id(t) not in {id(s) for s in sources}:
            op = layout.drawn_as[f"op{k}"]
            nodes.add(op)
            edges.add((op, layout.drawn_as[f"t{k}"]))
            for p in t.grad_fn.parents:
                if id(p) in on_path:
                    edges.add((layout.drawn_as[f"t{walk.k(p)}"], op))
    return nodes, edges

def node_number(node: str) -> int:
    """The tensor number in a DOT node id: 12 for "t12" (the tensor) and "op12" (the op that made it)."""
    return int(node[2:] if node.startswith("op") else node[1:])
