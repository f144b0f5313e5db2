"""The benchmark: each workload through the engine and through hand-written numpy, side by side.

The course teaches backprop by writing the gradients by hand (``dZ2 = A2 − Y``, ...). That code
(``bench_numpy``) is the floor an autograd engine is measured against. Both versions start from
the same arrays, run interleaved (A B A B … after a warm-up) in one process, and must end at the
same cost and parameters. ``python -m tinygrad_course bench`` prints the table; ``--quick`` runs small sizes.
"""

from __future__ import annotations

import gc
import itertools
import json
import statistics
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from . import bench_numpy, datasets
from . import functional as F
from .autograd import record_step
from .bench_numpy import Result
from .optim import SGD
from .tensor import Tensor

# --------------------------------------------------------------------------- the workloads' data


def _cat_like_data(m: int = 209, n_x: int = 12288) -> tuple[np.ndarray, np.ndarray]:
    """Generated stand-ins for the cat images: X uniform in [0, 1), labels 0/1 (no download)."""
    rng = np.random.RandomState(0)
    return rng.rand(n_x, m), (rng.rand(1, m) > 0.65).astype(np.float64)


def _small_init(layer_dims: list[int], seed: int, scale: float = 0.01) -> list[np.ndarray]:
    """The course's initialisation: W[l] = randn(n[l], n[l-1]) · scale, b[l] = 0."""
    rng = np.random.RandomState(seed)
    params = []
    for n_in, n_out in itertools.pairwise(layer_dims):
        params += [rng.randn(n_out, n_in) * scale, np.zeros((n_out, 1))]
    return params


# --------------------------------------------------------------------------- engine versions


@dataclass(frozen=True)
class Backend:
    """What a workload needs from an autograd library; the same code then runs on each."""

    name: str
    tensor: Callable[..., Any]  # (array, requires_grad=False) -> tensor
    bce_with_logits: Callable[[Any, Any], Any]
    sgd: Callable[[list[Any], float], Any]  # -> an optimizer with zero_grad() and step()
    set_lr: Callable[[Any, float], None]
    to_numpy: Callable[[Any], np.ndarray]
    replay: bool = False  # train with record_step (the engine only): each step replays the first


ENGINE = Backend(
    "engine",
    # Shared, not copied: the numpy side reads the same arrays, and _train hands over its own copies.
    lambda array, requires_grad=False: Tensor.from_numpy(np.asarray(array), requires_grad=requires_grad),
    F.binary_cross_entropy_with_logits,
    lambda params, lr: SGD(params, lr=lr),
    lambda optimizer, lr: setattr(optimizer, "lr", lr),
    lambda t: np.asarray(t.data if isinstance(t, Tensor) else t),
)
REPLAY = replace(ENGINE, name="engine, replayed", replay=True)


def torch_backend() -> Backend | None:
    """PyTorch as a third column, when it happens to be installed (it is never a dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return Backend(
        "torch",
        lambda array, requires_grad=False: torch.tensor(array, dtype=torch.float64,
                                                        requires_grad=requires_grad),
        torch.nn.functional.binary_cross_entropy_with_logits,
        lambda params, lr: torch.optim.SGD(params, lr=lr),
        lambda optimizer, lr: optimizer.param_groups[0].__setitem__("lr", lr),
        lambda t: t.detach().numpy(),
    )


def _train(bk: Backend, forward: Callable[[list[Any]], Any], arrays: list[np.ndarray], lr: float,
           iterations: int, schedule: Callable[[int], float] | None = None) -> Result:
    params = [bk.tensor(a.copy(), True) for a in arrays]
    optimizer = bk.sgd(params, lr)
    step = record_step(lambda: forward(params)) if bk.replay else None
    for i in range(iterations):
        if schedule is not None:
            bk.set_lr(optimizer, schedule(i))
        if step is not None:
            optimizer.zero_grad()
            J = step()
        else:
            J = forward(params)
            optimizer.zero_grad()
            J.backward()
        optimizer.step()
    return J.item(), [bk.to_numpy(p) for p in params]


def _logistic(bk: Backend, X: np.ndarray, Y: np.ndarray, lr: float, iterations: int) -> Result:
    X_t, Y_t = bk.tensor(X), bk.tensor(Y)
    init = [np.zeros((X.shape[0], 1)), np.zeros((1, 1))]
    return _train(bk, lambda p: bk.bce_with_logits(p[0].T @ X_t + p[1], Y_t), init, lr, iterations)


def _two_layer(bk: Backend, X: np.ndarray, Y: np.ndarray, init: list[np.ndarray], hidden: str, lr: float,
               iterations: int) -> Result:
    X_t, Y_t = bk.tensor(X), bk.tensor(Y)

    def forward(p: list[Any]) -> Any:
        Z1 = p[0] @ X_t + p[1]
        A1 = Z1.relu() if hidden == "relu" else Z1.tanh()
        return bk.bce_with_logits(p[2] @ A1 + p[3], Y_t)

    return _train(bk, forward, init, lr, iterations)


def _chain(bk: Backend, steps: int) -> Result:
    x0 = bk.tensor(np.float64(1.0), True)
    x = x0
    for _ in range(steps):
        x = x * 1.0001 + 0.001
    x.backward()
    return x.item(), [bk.to_numpy(x0.grad)]


def _max_margin(bk: Backend, X: np.ndarray, y: np.ndarray, init: list[np.ndarray], alpha: float,
                steps: int) -> Result:
    X_t, y_t = bk.tensor(X), bk.tensor(y)

    def forward(p: list[Any]) -> Any:
        A1 = (p[0] @ X_t + p[1]).relu()
        A2 = (p[2] @ A1 + p[3]).relu()
        scores = p[4] @ A2 + p[5]
        data_loss = (1 - y_t * scores).relu().mean()
        return data_loss + alpha * sum((q * q).sum() for q in p)

    return _train(bk, forward, init, 1.0, steps, schedule=lambda k: 1.0 - 0.9 * k / 100)


# --------------------------------------------------------------------------- the table


@dataclass
class Workload:
    name: str
    description: str
    run: Callable[[Backend], Result]
    numpy: Callable[[], Result]
    target: float | None
    repeats: int
    replayable: bool = True  # a training loop; W4 builds one graph once, so there is nothing to replay


@dataclass
class Row:
    name: str
    description: str
    engine_seconds: float
    numpy_seconds: float
    ratio: float
    target: float | None
    engine_peak_mb: float | None
    numpy_peak_mb: float | None
    memory_ratio: float | None
    max_relative_difference: float
    same_result: bool
    torch_ratio: float | None = None
    pairs: list[float] = field(default_factory=list)
    replay_ratio: float | None = None  # the engine with record_step, over the same numpy times
    replay_relative_difference: float | None = None
    replay_same_result: bool | None = None


def workloads(quick: bool = False) -> list[Workload]:
    """W1–W5 of the performance issue; ``quick`` shrinks them to seconds (for tests and CI)."""
    X_cat, Y_cat = _cat_like_data()
    X_flower, Y_flower = datasets.planar_flower(400, seed=1)
    Y_flower = Y_flower.astype(np.float64)
    X_moons, Y_moons = datasets.moons(100, noise=0.1, seed=1)
    y_moons = 2.0 * Y_moons - 1  # the max-margin loss wants labels ±1
    relu_init = _small_init([12288, 7, 1], seed=1)
    tanh_init = _small_init([2, 4, 1], seed=2)
    rng = np.random.RandomState(1337)
    shapes = [(16, 2), (16, 1), (16, 16), (16, 1), (1, 16), (1, 1)]
    moons_init = [rng.uniform(-1, 1, shape) for shape in shapes]
    big, flower, chain = (10, 300, 5_000) if quick else (300, 3000, 50_000)
    return [
        Workload("W1", f"logistic regression, X (12288, 209), {big} iterations",
                 lambda bk: _logistic(bk, X_cat, Y_cat, 0.005, big),
                 lambda: bench_numpy.logistic(X_cat, Y_cat, 0.005, big), 1.10, 1 if quick else 5),
        Workload("W2", f"12288 → 7 (ReLU) → 1, m = 209, {big} iterations",
                 lambda bk: _two_layer(bk, X_cat, Y_cat, relu_init, "relu", 0.0075, big),
                 lambda: bench_numpy.two_layer(X_cat, Y_cat, relu_init, "relu", 0.0075, big),
                 1.10, 1 if quick else 5),
        Workload("W3", f"flower 2 → 4 (tanh) → 1, m = 400, {flower} iterations",
                 lambda bk: _two_layer(bk, X_flower, Y_flower, tanh_init, "tanh", 1.2, flower),
                 lambda: bench_numpy.two_layer(X_flower, Y_flower, tanh_init, "tanh", 1.2, flower),
                 2.0, 3 if quick else 7),
        Workload("W4", f"scalar chain x ← 1.0001·x + 0.001, {chain:,} steps, then backward",
                 lambda bk: _chain(bk, chain), lambda: bench_numpy.chain(chain), 60.0, 3 if quick else 7,
                 replayable=False),
        Workload("W5", "moons MLP 2 → 16 → 16 → 1 (ReLU), max-margin + L2, 20 steps",
                 lambda bk: _max_margin(bk, X_moons, y_moons, moons_init, 1e-4, 20),
                 lambda: bench_numpy.max_margin(X_moons, y_moons, moons_init, 1e-4, 20),
                 2.0, 5 if quick else 15),
    ]


def _timed(run: Callable[[], Result]) -> tuple[float, Result]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def _peak_mb(run: Callable[[], Result]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _relative_difference(a: Result, b: Result) -> float:
    pairs = [(np.asarray(a[0]), np.asarray(b[0])), *zip(a[1], b[1], strict=True)]
    return max(float(np.max(np.abs(x - y)) / max(float(np.max(np.abs(y))), 1e-300)) for x, y in pairs)


def measure(workload: Workload, memory: bool = True, torch: Backend | None = None) -> Row:
    """Warm up, then time engine and numpy (then the replay and torch) in turn; ratios are medians
    of the rounds'."""
    def engine() -> Result:
        return workload.run(ENGINE)

    contenders = [engine, workload.numpy]
    if workload.replayable:
        contenders.append(lambda: workload.run(REPLAY))
    if torch:
        contenders.append(lambda: workload.run(torch))
    for run in contenders:
        run()
    times: list[list[float]] = [[] for _ in contenders]
    results: list[Result] = []
    for _ in range(workload.repeats):
        results = []
        for run, seconds in zip(contenders, times, strict=True):
            elapsed, result = _timed(run)
            seconds.append(elapsed)
            results.append(result)
    ratios = [[t / n for t, n in zip(column, times[1], strict=True)] for column in times]
    difference = _relative_difference(results[0], results[1])
    replay_difference = _relative_difference(results[2], results[1]) if workload.replayable else None
    engine_mb = _peak_mb(engine) if memory else None
    numpy_mb = _peak_mb(workload.numpy) if memory else None
    return Row(workload.name, workload.description, statistics.median(times[0]),
               statistics.median(times[1]), statistics.median(ratios[0]), workload.target,
               engine_mb, numpy_mb,
               engine_mb / numpy_mb if engine_mb and numpy_mb else None, difference, difference <= 1e-9,
               torch_ratio=statistics.median(ratios[-1]) if torch else None, pairs=ratios[0],
               replay_ratio=statistics.median(ratios[2]) if workload.replayable else None,
               replay_relative_difference=replay_difference,
               replay_same_result=None if replay_difference is None else replay_difference <= 1e-9)


@dataclass
class ChainRun:
    steps: int
    seconds: float
    collections: int  # of Python's cycle collector, during the timed run
    full_collections: int
    peak_bytes_per_op: float  # traced in a second run (tracemalloc slows the first)


def long_chain(steps: int = 1_000_000) -> ChainRun:
    """The engine's forward + backward over a chain of ``steps`` steps (2 ops each): time and memory."""
    counts = {"all": 0, "full": 0}

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            counts["all"] += 1
            counts["full"] += info["generation"] == 2

    gc.collect()
    gc.callbacks.append(count)
    try:
        seconds, _ = _timed(lambda: _chain(ENGINE, steps))
    finally:
        gc.callbacks.remove(count)
    peak = _peak_mb(lambda: _chain(ENGINE, steps)) * 2**20
    return ChainRun(steps, seconds, counts["all"], counts["full"], peak / (2 * steps))


def dispatch_costs(calls: int = 2000, rounds: int = 7) -> dict[str, float]:
    """µs per call of numpy's protocols (``np.exp(t)``, ``X * t``) next to the methods they stand for.

    On a (4, 400) tensor, the size of W3's activations, where per-call overhead shows; each pair
    is timed in alternation, and the best of ``rounds`` rounds of ``calls`` calls is kept.
    """
    t = Tensor(np.random.RandomState(0).rand(4, 400), requires_grad=True)
    X = t.data.copy()
    calls_by_name: dict[str, Callable[[], Any]] = {
        "t.exp()": lambda: t.exp(), "np.exp(t)": lambda: np.exp(t),
        "t * X": lambda: t * X, "X * t": lambda: X * t,
        "t.sum(axis=1, keepdims=True)": lambda: t.sum(axis=1, keepdims=True),
        "np.sum(t, axis=1, keepdims=True)": lambda: np.sum(t, axis=1, keepdims=True),
    }
    best = dict.fromkeys(calls_by_name, float("inf"))
    for _ in range(rounds):
        for name, call in calls_by_name.items():
            best[name] = min(best[name], timeit.timeit(call, number=calls) / calls * 1e6)
    return best


def format_dispatch(costs: dict[str, float]) -> str:
    names = list(costs)
    lines = ["numpy's protocols, µs per call on a (4, 400) tensor: the method, then the numpy call"]
    for method, numpy_call in zip(names[::2], names[1::2], strict=True):
        lines.append(f"  {method:30} {costs[method]:6.1f}    {numpy_call:34} {costs[numpy_call]:6.1f}")
    return "\n".join(lines)


def format_table(rows: list[Row]) -> str:
    torch = any(r.torch_ratio is not None for r in rows)
    header = (f"{'':4} {'engine s':>9} {'numpy s':>9} {'ratio':>7} {'target':>7} {'eng MB':>8} "
              f"{'np MB':>8} {'mem×':>6} {'rel diff':>9}  same  replay ratio  same"
              + ("   torch ratio" if torch else ""))
    lines = [header]
    for r in rows:
        mem = (f"{r.engine_peak_mb:8.1f} {r.numpy_peak_mb:8.1f} {r.memory_ratio:6.2f}"
               if r.memory_ratio else " " * 24)
        target = f"{r.target:7.2f}" if r.target else " " * 7
        line = (f"{r.name:4} {r.engine_seconds:9.4f} {r.numpy_seconds:9.4f} {r.ratio:7.2f} {target} {mem} "
                f"{r.max_relative_difference:9.1e}  {'yes ' if r.same_result else 'NO  '}")
        line += (f"  {r.replay_ratio:12.2f}  {'yes ' if r.replay_same_result else 'NO  '}"
                 if r.replay_ratio is not None else " " * 20)
        lines.append(line + (f"   {r.torch_ratio:11.2f}" if r.torch_ratio is not None else ""))
    lines += [f"  {r.name}: {r.description}" for r in rows]
    lines.append("ratio = engine / hand-written numpy, the median over interleaved rounds; "
                 "MB = peak traced memory")
    lines.append("replay ratio = the engine training with record_step (two steps eager, "
                 "the rest replayed), over the same numpy times; W4 has no training step to replay")
    lines.append("target = the ratio this project aims to keep each workload under (a budget set by hand, "
                 "not a measurement); same = both ended at the same cost and parameters")
    return "\n".join(lines)


def run(quick: bool = False, json_path: str | None = None,
        print_fn: Callable[[str], Any] = print, only: list[str] | None = None,
        with_torch: bool = True) -> list[Row]:
    """Measure the workloads (all, or ``only`` these), print the table and, unless quick, the
    million-step chain. ``with_torch=False`` never imports PyTorch, for the numbers without it."""
    torch = torch_backend() if with_torch else None
    print_fn(f"PyTorch {'imported' if torch else 'not imported'} in this process")
    rows = []
    for workload in workloads(quick):
        if only and workload.name not in only:
            continue
        print_fn(f"measuring {workload.name}: {workload.description} ...")
        rows.append(measure(workload, torch=torch))
    print_fn(format_table(rows))
    costs = dispatch_costs(calls=200 if quick else 2000)
    print_fn(format_dispatch(costs))
    report: dict[str, Any] = {"rows": [asdict(r) for r in rows], "dispatch_microseconds": costs}
    if not quick and (not only or "W4" in only):
        chain = long_chain()
        report["chain_1e6"] = asdict(chain)
        print_fn(f"W4 with 1,000,000 steps (2,000,000 ops): forward + backward in {chain.seconds:.1f} s, "
                 f"no recursion; {chain.collections} collections ({chain.full_collections} full); "
                 f"peak traced memory {chain.peak_bytes_per_op:.0f} bytes per op")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
    return rows
