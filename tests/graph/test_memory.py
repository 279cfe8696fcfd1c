"""Buffer planning: the plan is sound (no two live values share a buffer), its peak matches
what a run really allocates (tracemalloc sees NumPy's allocations), and it reads well."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.graph.memory import check_plan

RNG = np.random.default_rng(0)


def _mlp_step(optimizer: str = "adam", sizes=(256, 512, 512, 10)):
    ember.manual_seed(0)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    if optimizer == "adam":
        opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def _elementwise(a, b):
    t = ember.sigmoid(a * b + a)
    u = ember.exp(-b) * ember.tanh(a / (b * b + 1))
    w = ember.relu(t - u) + ember.where(a > b, t, u)
    return (w * w).sum() + t.sum()


def _mlp_args(batch=64, features=256, classes=10):
    x = ember.tensor(RNG.standard_normal((batch, features)).astype(np.float32))
    return x, ember.tensor(RNG.integers(0, classes, batch))


def _ew_args():
    a = ember.tensor(RNG.standard_normal((300, 1000)).astype(np.float32))
    return a, ember.tensor(RNG.standard_normal((1000,)).astype(np.float32))


def _measured_peak(compiled, args) -> int:
    """Peak bytes NumPy allocates during one call (the first executor run: it also makes
    the planned buffers)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        compiled(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("make,args", [(lambda: _mlp_step("adam"), _mlp_args),
                                       (lambda: _mlp_step("sgd"), _mlp_args),
                                       (lambda: _elementwise, _ew_args)],
                         ids=["mlp-adam", "mlp-sgd", "elementwise"])
def test_planned_peak_matches_tracemalloc(make, args):
    a = args()
    compiled = ember.compile(make())
    # the first step traces (Adam's first step makes its state, so the second one traces
    # again); both calls leave the graph of the last trace ready
    compiled(*a)
    compiled(*a)
    traces = compiled.traces
    plan = compiled.memory_plan()
    assert plan.peak_bytes > 0
    measured = _measured_peak(compiled, a)
    assert compiled.traces == traces
    assert abs(measured - plan.peak_bytes) <= 0.10 * plan.peak_bytes, (measured, str(plan))
    # buffers are made where first written and dropped after their last use, every run:
    # a later run needs what the first did, and nothing stays allocated between runs
    later = _measured_peak(compiled, a)
    assert abs(later - plan.peak_bytes) <= 0.10 * plan.peak_bytes, (later, str(plan))


@pytest.mark.parametrize("make,args", [(lambda: _mlp_step("adam"), _mlp_args),
                                       (lambda: _mlp_step("sgd", (20, 32, 5)), lambda:
                                        _mlp_args(8, 20, 5)),
                                       (lambda: _elementwise, _ew_args)])
def test_no_buffer_holds_two_live_values(make, args):
    compiled = ember.compile(make())
    compiled(*args())
    plan, graph = compiled.memory_plan(), compiled.graph
    assert check_plan(plan, graph) == []
    assert plan.buffers and plan.in_place > 0


def test_checker_finds_a_broken_plan():
    compiled = ember.compile(_elementwise)
    compiled(*_ew_args())
    plan, graph = compiled.memory_plan(), compiled.graph
    planned = [vid for vid, w in plan.assignment.items() if w[0] != "value"]
    assert len(planned) >= 2
    # put every planned value in buffer 0: some of them are alive at the same time
    for vid in planned:
        plan.assignment[vid] = (0, plan.assignment[vid][1])
    assert any("overlap" in p for p in check_plan(plan, graph))
    out = next(v for v in graph.outputs if v is not None)
    plan.assignment[out.id] = (0, out.shape)
    assert any("kept by the user" in p for p in check_plan(plan, graph))


def test_outputs_and_grads_are_never_planned():
    step = _mlp_step("sgd", (20, 32, 5))
    compiled = ember.compile(step)
    compiled(*_mlp_args(8, 20, 5))
    plan, graph = compiled.memory_plan(), compiled.graph
    kept = {v.id for v in graph.outputs if v is not None}
    kept |= {v.id for how, _, v in graph.writebacks if how == "grad" and v is not None}
    assert kept and not kept & set(plan.assignment)


def test_plan_text_names_peak_buffers_and_user_lines():
    compiled = ember.compile(_mlp_step("adam"))
    compiled(*_mlp_args())
    plan = compiled.memory_plan()
    text = str(plan)
    assert "peak" in text and "allocated per run" in text and "planned buffers" in text
    assert __file__ in text  # the user lines of the largest arrays
    sizes = [entry[0] for entry in plan.largest]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] >= 512 * 512 * 4
    assert plan.allocated_per_run > 0 and repr(plan).startswith("<MemoryPlan")


def test_memory_plan_before_first_call_is_an_error():
    compiled = ember.compile(_elementwise)
    with pytest.raises(ember.GraphError):
        compiled.memory_plan()
