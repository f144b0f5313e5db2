"""The command line: ``python -m tinygrad_course demo`` (and ``--help`` for the rest)."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _checks
from .autograd import grad
from .datasets import CAT_FILE, DATA_ENV, _convert_catvnoncat, _load_catvnoncat, circles, moons, planar_flower
from .errors import InputValueError, MissingDependencyError, TinygradCourseError
from .nn import MLP, BinaryClassifier, LogisticRegression
from .optim import SGD, Adam, Momentum
from .tensor import Tensor
from .train import ExplodingCostWarning, History, accuracy, fit


def _lesson_computation_graph() -> None:
    a = Tensor(5.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(2.0, requires_grad=True, name="c")
    u = (b * c).named("u")
    v = (a + u).named("v")
    J = (3 * v).named("J")
    J.backward()
    print("The computation graph J = 3(a + bc), with a = 5, b = 3, c = 2")
    print(f"  forward:  u = bc = {u.item():g},  v = a + u = {v.item():g},  J = 3v = {J.item():g}")
    print(f"  backward: dJ/dv = {v.grad:g},  dJ/du = {u.grad:g},  dJ/da = {a.grad:g},  "
          f"dJ/db = {b.grad:g},  dJ/dc = {c.grad:g}")


def _lesson_more_derivatives() -> None:
    print("More derivative examples, at a = 2 (first, second, third derivative by autograd)")
    for label, f in (("a²", lambda a: a**2), ("a³", lambda a: a**3), ("log a", lambda a: a.log())):
        a = Tensor(2.0, requires_grad=True)
        (d1,) = grad(f(a), a, create_graph=True)
        (d2,) = grad(d1, a, create_graph=True)
        (d3,) = grad(d2, a)
        print(f"  {label:6}  d/da = {d1.item():<8g} d²/da² = {d2.item():<8g} d³/da³ = {d3.item():g}")


@dataclass
class TrainedModel:
    """A model trained by the demo, with what the course reports for it."""

    title: str
    model: BinaryClassifier
    history: History
    accuracy: float
    course_accuracy: str


def _demo_flower() -> tuple[np.ndarray, np.ndarray, list[TrainedModel]]:
    """The course's planar lesson: logistic regression fails on the flower, 4 tanh units succeed."""
    X, Y = planar_flower()
    print(f"The course's planar 'flower' data: X {X.shape}, Y {Y.shape} (m = {X.shape[1]} points, 2 classes)")
    print("  training two models on it, learning rate 1.2, 10000 iterations of gradient descent each, "
          "through autograd:", flush=True)
    trained = []
    for title, model, course in (
        ("logistic regression", LogisticRegression(2), "47 %"),
        ("1 hidden layer, 4 tanh units", MLP([2, 4, 1], "tanh", init="small", seed=2), "90 %"),
    ):
        print(f"  {title} ...", flush=True)
        history = fit(model, X, Y, lr=1.2, iterations=10000, record_every=100)
        trained.append(TrainedModel(title, model, history, accuracy(model, X, Y), course))
    print(f"  {'model':<30} {'cost at 0':>10} {'final cost':>11} {'accuracy':>9}   {'course':>6}")
    for t in trained:
        print(f"  {t.title:<30} {t.history.costs[0]:>10.6f} {t.history.final_cost:>11.6f} "
              f"{100 * t.accuracy:>8.2f} %   {t.course_accuracy:>6}")
    return X, Y, trained


def _training_step_graphs(out: Path, X: np.ndarray, Y: np.ndarray, model: BinaryClassifier) -> list[Path]:
    """The forward and backward graph of one gradient step of the flower network, in the course's names."""
    from .functional import binary_cross_entropy_with_logits
    from .viz import save_graphs

    # The model names its own steps the course's way (Z1, A1, Z2); the data and the cost are ours.
    J = binary_cross_entropy_with_logits(model(Tensor(X, name="X")), Tensor(Y, name="Y")).named("J")
    model.zero_grad()
    J.backward()
    return save_graphs(J, out, "training_step",
                       title="One gradient step of the flower network: Z1 = W1·X + b1, A1 = tanh(Z1), "
                             "Z2 = W2·A1 + b2, J = cost")


def write_demo_outputs(out: Path, X: np.ndarray, Y: np.ndarray,
                       trained: Sequence[TrainedModel]) -> list[Path]:
    """Populate the demo's output folder: the graphs of one training step and the plots."""
    out.mkdir(parents=True, exist_ok=True)
    written = _training_step_graphs(out, X, Y, trained[-1].model)
    try:
        from .plots import plot_costs, plot_decision_boundaries

        costs = out / "flower_costs.png"
        plot_costs([t.history for t in trained], costs, labels=[t.title for t in trained],
                   title="Planar flower: cost during training")
        boundaries = out / "flower_decision_boundaries.png"
        plot_decision_boundaries([(f"{t.title} ({100 * t.accuracy:.2f} %)", t.model) for t in trained],
                                 X, Y, boundaries)
        written += [costs, boundaries]
    except MissingDependencyError as error:
        print(f"\nNo plots written: {error}")
    return written


DEMO_SUMMARY = ("The demo: the lesson's computation graph J = 3(a + bc) and its derivatives, then "
                "logistic regression and a network of 4 tanh units trained on the course's planar flower "
                "(about 10 s), then the graphs of one training step and the plots, written into --out.")


def demo(args: argparse.Namespace) -> int:
    # Checked before any work: a file in the way is said at once, not after a minute of training.
    out = _checks.output_folder(args.out, "--out", "a folder for the demo's pictures (created if missing)")
    print(f"{DEMO_SUMMARY}\n", flush=True)
    _lesson_computation_graph()
    print()
    _lesson_more_derivatives()
    print()
    X, Y, trained = _demo_flower()
    written = write_demo_outputs(out, X, Y, trained)
    print(f"\nWrote {len(written)} files into {out.resolve()}:")
    for path in written:
        print(f"  {path.name}")
    return 0


# --------------------------------------------------------------------------- train

_PLANE_DATA = {"planar": planar_flower, "moons": moons, "circles": circles}
_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def _layers(text: str) -> list[int]:
    try:
        dims = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes such as 2,4,1, got {text!r}") from None
    if len(dims) < 2 or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected at least two positive sizes such as 2,4,1, got {text!r}")
    return dims


def _train_outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """``--save`` and ``--plot``, checked before the data is loaded or a step is taken."""
    save = plot = None
    if args.save is not None:
        save = _checks.output_file(args.save, "--save", "a file name for the trained parameters, such as "
                                                       "model.npz")
        if save.suffix != ".npz":
            raise InputValueError(f"--save: {str(save)!r}: the parameters are written as a numpy .npz "
                                  "archive (arrays only, no pickle); expected a file name ending in .npz, "
                                  "such as model.npz.")
    if args.plot is not None:
        from .plots import picture_path, require_matplotlib

        plot = picture_path(args.plot, "--plot")
        require_matplotlib()
    return save, plot


def _plot_title(args: argparse.Namespace, layers: list[int], activation: str, lr: float, iterations: int,
                train_accuracy: float) -> str:
    """Short lines, not the model's whole repr: the data and network, the training, the result."""
    return (f"{args.data}: layers {','.join(map(str, layers))}, {activation}, init {args.init}\n"
            f"{args.optimizer}, lr {lr:g}, {iterations} iterations\n"
            f"train accuracy {100 * train_accuracy:.2f} %")


def train(args: argparse.Namespace) -> int:
    save, plot = _train_outputs(args)
    if args.data == "cats":
        cats = _load_catvnoncat(args.data_path, "--data-path")
        X, Y, tests = cats.X_train, cats.Y_train, [("test", cats.X_test, cats.Y_test)]
        defaults = {"layers": [X.shape[0], 7, 1], "activation": "relu", "lr": 0.0075, "iterations": 2500,
                    "seed": 1}
    else:
        if args.data_path is not None:
            raise InputValueError(f"--data-path is for --data cats; the {args.data} data is built in.")
        X, Y = _PLANE_DATA[args.data]()
        tests = []
        # Seed 2 is the course's on the flower (its planar nn_model), 1 its seed on the cats.
        defaults = {"layers": [2, 4, 1], "activation": "tanh", "lr": 1.2, "iterations": 10000,
                    "seed": 2 if args.data == "planar" else 1}
    layers = args.layers or defaults["layers"]
    if layers[0] != X.shape[0] or layers[-1] != 1:
        raise InputValueError(
            f"--layers must start with the data's n_x = {X.shape[0]} and end with 1 output unit "
            f"(e.g. {','.join(map(str, defaults['layers']))}), got {','.join(map(str, layers))}."
        )
    activation = args.activation or defaults["activation"]
    lr = args.lr if args.lr is not None else defaults["lr"]
    iterations = args.iterations if args.iterations is not None else defaults["iterations"]
    seed = args.seed if args.seed is not None else defaults["seed"]
    model = MLP(layers, activation, init=args.init, seed=seed)
    optimizer = _OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    print(f"Training {model.describe()} on {args.data} data: X {X.shape}, Y {Y.shape}")
    print(f"  {optimizer!r}, {iterations} iterations")
    history = fit(model, X, Y, optimizer=optimizer, iterations=iterations,
                  record_every=max(1, iterations // 10), print_cost=True, on_explosion=args.on_explosion)
    print(f"Cost after training: {history.final_cost:f}  ({history.seconds:.1f} s)")
    train_accuracy = accuracy(model, X, Y)
    print(f"train accuracy: {100 * train_accuracy:.2f} %")
    for name, X_other, Y_other in tests:
        print(f"{name} accuracy: {100 * accuracy(model, X_other, Y_other):.2f} %")
    if save is not None:
        print(f"Saved the parameters to {model.save(save)}")
    if plot is not None:
        from .plots import plot_costs, plot_decision_boundary

        title = _plot_title(args, layers, activation, lr, iterations, train_accuracy)
        if X.shape[0] == 2:
            plot_decision_boundary(model, X, Y, plot, title=title)
        else:
            plot_costs(history, plot, title=title)
        print(f"Wrote {plot}")
    return 0


def bench(args: argparse.Namespace) -> int:
    """Each workload through the engine and through hand-written numpy; prints the ratios."""
    from .bench import run

    if args.json is not None:
        _checks.output_file(args.json, "--json", "a file name for the measurements, such as bench.json")
    rows = run(quick=args.quick, json_path=args.json, only=args.only, with_torch=not args.no_torch)
    return 0 if all(row.same_result for row in rows) else 1


def graph(args: argparse.Namespace) -> int:
    """Write the lesson's graphs of J = 3(a + bc), one logistic-regression example, the stepper,
    and the flower network's layer view and explorer page.

    ``--format dot`` writes the DOT text of the graphs, which needs no renderer; the stepper and
    the explorer are then left out (their pictures are rendered SVG).
    """
    from . import viz

    out = _checks.output_folder(args.out, "--out", "a folder for the graphs (created if missing)")
    written = viz.save_lesson_pictures(out, args.format) + viz.save_network_pictures(out, args.format)
    if args.format == "dot":
        print("backprop_steps.html and flower_explorer.html not written: their pictures are rendered; "
              "use --format svg or png for them.", file=sys.stderr)
    for path in written:
        print(path)
    return 0


def export(args: argparse.Namespace) -> int:
    """Write a model saved by ``train --save`` as ONNX or safetensors, the format taken from OUT's suffix."""
    from . import export as exporting

    exporting.format_of(args.out)  # the suffix and the place are checked before any work
    _checks.output_file(args.out, "OUT", "a file name such as model.onnx or model.safetensors")
    model = exporting.load_model(args.model)
    print(f"Wrote {exporting.write(model, args.out)} from {args.model}")
    return 0


def data_convert(args: argparse.Namespace) -> int:
    """The course's two .h5 files as the one .npz that ``--data cats`` and ``load_catvnoncat`` read."""
    written = _convert_catvnoncat(args.train, args.test, args.out, ("TRAIN", "TEST", "--out"))
    print(f"Wrote {written}: use it with --data-path {written}, load_catvnoncat({str(written)!r}) or "
          f"{DATA_ENV}={written}")
    return 0


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: ...)" after each option's help, except where there is none to show.

    Options whose default depends on the data (``--layers``, ``--lr``, ...) say so in their help.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinygrad_course", formatter_class=_HelpFormatter,
                                     description="tinygrad_course: autograd for the deep-learning course.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo_parser = commands.add_parser("demo", help="run the course's lessons on built-in data",
                                      formatter_class=_HelpFormatter, description=DEMO_SUMMARY)
    demo_parser.add_argument("--out", default="tinygrad_course_output", metavar="DIR",
                             help="folder for the pictures, created if missing")
    demo_parser.set_defaults(run=demo)
    graph_parser = commands.add_parser(
        "graph", help="draw the lesson's graphs, the layer view and the explorer",
        formatter_class=_HelpFormatter,
        description="Write the lesson's pictures into --out: the forward and backward graphs of "
                    "J = 3(a + bc) and of one logistic-regression example, the flower network's layer "
                    "view, and explorer pages that step through backprop node by node or layer by layer.")
    graph_parser.add_argument("--out", default="graphs", metavar="DIR",
                              help="folder for the files, created if missing")
    graph_parser.add_argument("--format", choices=("svg", "png", "dot"), default="svg",
                              help="picture format; dot writes the DOT text of the graphs, which "
                                   "needs no renderer, and no stepper or explorer page")
    graph_parser.set_defaults(run=graph)
    bench_parser = commands.add_parser("bench", help="time the engine against hand-written numpy",
                                       formatter_class=_HelpFormatter)
    bench_parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    bench_parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    bench_parser.add_argument("--only", metavar="W", nargs="+", choices=["W1", "W2", "W3", "W4", "W5"],
                              help="measure only these workloads (the million-step chain runs with W4)")
    bench_parser.add_argument("--no-torch", action="store_true",
                              help="never import PyTorch, even where it is installed (it slows a process "
                                   "that builds long graphs: its objects are walked by the cycle collector)")
    bench_parser.set_defaults(run=bench)
    train_parser = commands.add_parser(
        "train", help="train an MLP on a built-in 2-D set or the cat images", formatter_class=_HelpFormatter,
        description="Train the course's network [LINEAR → activation] × (L−1) → LINEAR → σ by gradient "
                    "descent. Defaults: 2,4,1 tanh, lr 1.2, 10000 iterations on 2-D data; "
                    "12288,7,1 relu, lr 0.0075, 2500 iterations on cats.")
    train_parser.add_argument("--data", required=True, choices=["planar", "moons", "circles", "cats"],
                              help="the training set: the course's planar flower, two moons, two "
                                   "circles (all built in, 2-D), or the cat / non-cat images (needs "
                                   "--data-path or " + DATA_ENV + ")")
    train_parser.add_argument("--data-path", metavar="FILE",
                              help=f"catvnoncat.npz (or its folder) for --data cats; default: ${DATA_ENV}")
    train_parser.add_argument("--layers", type=_layers, metavar="N,N,...",
                              help="layer sizes from n_x to 1 output unit; default: 2,4,1 on 2-D data, "
                                   "12288,7,1 on cats")
    train_parser.add_argument("--activation", choices=["tanh", "relu"],
                              help="hidden-layer activation; default: tanh on 2-D data, relu on cats")
    train_parser.add_argument("--init", choices=["small", "scaled", "he", "xavier"], default="small",
                              help="weight initialisation: small is randn·0.01, scaled randn/√n_prev")
    train_parser.add_argument("--seed", type=int,
                              help="numpy seed of the initialisation; default: 2 on planar (the course's "
                                   "flower network), 1 otherwise (the course's cat networks)")
    train_parser.add_argument("--lr", type=float,
                              help="learning rate α; default: 1.2 on 2-D data, 0.0075 on cats")
    train_parser.add_argument("--iterations", type=int,
                              help="gradient steps; default: 10000 on 2-D data, 2500 on cats")
    train_parser.add_argument("--optimizer", choices=sorted(_OPTIMIZERS), default="sgd",
                              help="the update rule: sgd is the course's gradient descent w := w − α·dw; "
                                   "momentum and adam are its later refinements")
    train_parser.add_argument("--save", metavar="MODEL.npz",
                              help="write the trained parameters here (checked before training)")
    train_parser.add_argument("--plot", metavar="OUT.png",
                              help="write the decision boundary (2-D data) or the cost curve (cats) as "
                                   ".png, .svg, .pdf or .jpg, by the suffix (checked before training)")
    train_parser.add_argument("--on-explosion", choices=["warn", "stop", "ignore"], default="warn",
                              help="when the cost grows far above its start without turning NaN (a "
                                   "learning rate too large, unscaled inputs): warn and go on, stop, ignore")
    train_parser.set_defaults(run=train)
    export_parser = commands.add_parser(
        "export", help="write a saved model as ONNX or safetensors", formatter_class=_HelpFormatter,
        description="Write a model saved by train --save (MODEL.npz) in another format, taken from OUT's "
                    "suffix: .onnx (an ONNX model: input X (n_x, m) for any m, output the logits Z[L]) "
                    "or .safetensors (the weights under PyTorch's keys). Needs the [onnx] extra.")
    export_parser.add_argument("model", metavar="MODEL.npz", help="a model file written by train --save")
    export_parser.add_argument("out", metavar="OUT", help="OUT.onnx or OUT.safetensors")
    export_parser.set_defaults(run=export)
    data_parser = commands.add_parser(
        "data", help="prepare the course's cat / non-cat data", formatter_class=_HelpFormatter,
        description="The cat / non-cat images are not shipped with tinygrad_course. A course participant "
                    "has them as the assignment's datasets/train_catvnoncat.h5 and test_catvnoncat.h5; "
                    f"'data convert' writes them as the one {CAT_FILE} that --data cats reads.")
    data_commands = data_parser.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    convert_parser = data_commands.add_parser(
        "convert", help="the course's two .h5 files to one .npz (needs h5py: the extra h5)",
        formatter_class=_HelpFormatter,
        description="Copy the datasets train_set_x, train_set_y, test_set_x, test_set_y and list_classes of "
                    "the course's two HDF5 files unchanged into one .npz archive (list_classes decoded to "
                    "text, so no pickle is needed). A file in another layout is refused. Needs h5py: "
                    'pip install "tinygrad_course[h5]".')
    convert_parser.add_argument("train", metavar="TRAIN", help="the course's train_catvnoncat.h5")
    convert_parser.add_argument("test", metavar="TEST", help="the course's test_catvnoncat.h5")
    convert_parser.add_argument("--out", default=CAT_FILE, metavar="FILE.npz", help="the archive to write")
    convert_parser.set_defaults(run=data_convert)
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            warnings.simplefilter("always", ExplodingCostWarning)  # said each time, whatever the filters
            return int(args.run(args))
    except (TinygradCourseError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    """A warning on the command line is one line, like an error, without the source line it came from."""
    print(f"warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
