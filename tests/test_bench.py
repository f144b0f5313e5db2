"""The benchmark runs and its correctness check passes (timings are printed, never asserted)."""

import json

import numpy as np

from tinygrad_course import bench, bench_numpy
from tinygrad_course.__main__ import main


def test_quick_benchmark_runs_and_engine_matches_hand_written_numpy(tmp_path, capsys):
    report = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    measured = json.loads(report.read_text())
    rows = measured["rows"]
    assert set(measured["dispatch_microseconds"]) == {"t.exp()", "np.exp(t)", "t * X", "X * t",
                                                      "t.sum(axis=1, keepdims=True)",
                                                      "np.sum(t, axis=1, keepdims=True)"}
    assert "numpy's protocols, µs per call" in out and "np.exp(t)" in out
    assert [row["name"] for row in rows] == ["W1", "W2", "W3", "W4", "W5"]
    for row in rows:
        assert row["same_result"] and row["max_relative_difference"] <= 1e-9, row
        assert row["ratio"] > 0 and row["engine_peak_mb"] > 0
        assert f"\n{row['name']} " in out
        if row["name"] == "W4":  # one graph built once: nothing to replay
            assert row["replay_ratio"] is None and row["replay_same_result"] is None
        else:
            assert row["replay_same_result"] and row["replay_relative_difference"] <= 1e-9, row
            assert row["replay_ratio"] > 0
    assert "  same  replay ratio  same" in next(line for line in out.splitlines() if "engine s" in line)


def test_hand_written_numpy_matches_the_course_formulas_on_one_step():
    # The reference itself is checked: one step of the numpy W3 equals autograd's gradient step.
    X, Y = np.random.RandomState(0).randn(2, 5), np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    init = bench._small_init([2, 3, 1], seed=0, scale=0.5)
    numpy_cost, numpy_params = bench_numpy.two_layer(X, Y, init, "tanh", 0.1, 1)
    engine_cost, engine_params = bench._two_layer(bench.ENGINE, X, Y, init, "tanh", 0.1, 1)
    assert numpy_cost == engine_cost or abs(numpy_cost - engine_cost) < 1e-12
    for a, b in zip(numpy_params, engine_params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_training_with_record_step_ends_where_eager_training_ends():
    X, Y = np.random.RandomState(0).randn(2, 5), np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    init = bench._small_init([2, 3, 1], seed=0, scale=0.5)
    eager_cost, eager_params = bench._two_layer(bench.ENGINE, X, Y, init, "tanh", 0.1, 6)
    replay_cost, replay_params = bench._two_layer(bench.REPLAY, X, Y, init, "tanh", 0.1, 6)
    assert replay_cost == eager_cost
    assert all(np.array_equal(a, b) for a, b in zip(replay_params, eager_params, strict=True))


def test_the_replay_column_is_blank_where_there_is_nothing_to_replay():
    rows = [bench.Row("W3", "a loop", 2.0, 1.0, 2.0, 3.0, None, None, None, 0.0, True,
                      replay_ratio=1.5, replay_relative_difference=0.0, replay_same_result=True),
            bench.Row("W4", "a chain", 2.0, 1.0, 2.0, 3.0, None, None, None, 0.0, True)]
    lines = bench.format_table(rows).splitlines()
    assert lines[0].split()[-4:] == ["same", "replay", "ratio", "same"]
    assert lines[1].split()[-4:] == ["0.0e+00", "yes", "1.50", "yes"]
    assert lines[2].split()[-2:] == ["0.0e+00", "yes"]  # W4: blank


def test_the_table_says_what_its_target_column_is():
    row = bench.Row("W1", "a workload", 2.0, 1.0, 2.0, 3.0, None, None, None, 0.0, True)
    table = bench.format_table([row])
    assert table.splitlines()[1].split()[4] == "3.00"
    assert "target = the ratio this project aims to keep each workload under" in table


def test_bench_measures_only_the_chosen_workloads_and_can_leave_torch_out(tmp_path, capsys):
    report = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--only", "W4", "--no-torch", "--json", str(report)]) == 0
    rows = json.loads(report.read_text())["rows"]
    assert [row["name"] for row in rows] == ["W4"] and rows[0]["torch_ratio"] is None
    assert "PyTorch not imported" in capsys.readouterr().out


def test_the_long_chain_reports_its_time_collections_and_memory_per_op():
    chain = bench.long_chain(2_000)
    assert chain.steps == 2_000 and chain.seconds > 0
    # Each op keeps at least its result's array alive until backward: tens of bytes at the least.
    assert chain.peak_bytes_per_op > 50
