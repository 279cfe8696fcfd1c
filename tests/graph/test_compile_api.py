"""ember.compile's user-facing behaviour: guards and retraces with their reasons, errors that
name the user's line, ember.cond, side-effect warnings, inspection, compile(module)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember
from ember import nn

HERE = os.path.abspath(__file__)


def _line_of(text: str) -> int:
    """The line number in this file of the first line containing ``text``."""
    with open(HERE) as f:
        for i, line in enumerate(f, 1):
            if text in line and "_line_of" not in line:
                return i
    raise AssertionError(text)


def _t(*shape, dtype=np.float32, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


# ---------------------------------------------------------------------- guards and retraces


def _double(x, k=2):
    return x * k


@pytest.mark.parametrize("first,second,reason", [
    ((_t(2, 3),), (_t(4, 3),),
     "argument 'x' changed: tensor float32[2, 3] -> tensor float32[4, 3]"),
    ((_t(2, 3),), (_t(2, 3, dtype=np.float64),),
     "argument 'x' changed: tensor float32[2, 3] -> tensor float64[2, 3]"),
    ((_t(2, 3), 2), (_t(2, 3), 3), "argument 'k' changed: 2 -> 3"),
    ((_t(2, 3), 2), (_t(2, 3), 2.0), "argument 'k' changed: 2 -> 2.0"),
])
def test_each_guard_retraces_once_with_its_reason(first, second, reason, caplog):
    f = ember.compile(_double, verbose=True)
    f(*first)
    f(*first)
    assert f.traces == 1
    with caplog.at_level(logging.WARNING, logger="ember.compile"):
        f(*second)
        f(*second)
    assert f.traces == 2
    assert f.last_reason == reason
    assert reason in caplog.text
    assert caplog.text.count("retracing") == 1


def test_requires_grad_and_grad_mode_are_guards():
    f = ember.compile(lambda x: x * 2)
    x = _t(3)
    f(x)
    f(x.requires_grad_())
    assert f.traces == 2 and "requires_grad" in f.last_reason
    with ember.no_grad():
        f(x)
    assert f.traces == 3 and f.last_reason == "grad mode changed: True -> False"


def test_train_eval_and_replaced_parameters_are_guards():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    f = ember.compile(model)
    x = _t(2, 3)
    f(x)
    model.eval()
    f(x)
    assert f.traces == 2 and "train/eval changed" in f.last_reason
    f(x)
    assert f.traces == 2
    model[0] = nn.Linear(3, 4).eval()
    f(x)
    assert f.traces == 3 and "parameters changed" in f.last_reason


def test_captured_module_in_a_function_is_guarded():
    model = nn.Linear(3, 2)

    @ember.compile
    def forward(x):
        return model(x)

    x = _t(5, 3)
    forward(x)
    model.eval()
    forward(x)
    assert forward.traces == 2 and "train/eval" in forward.last_reason


def test_state_tensor_changing_shape_retraces():
    w = _t(3, 3)
    f = ember.compile(lambda x: x @ w)
    f(_t(2, 3))
    w.data = _t(3, 5)
    out = f(_t(2, 3))
    assert out.shape == (2, 5)
    assert f.traces == 2 and "changed from float32[3, 3] to float32[3, 5]" in f.last_reason


def test_env_var_turns_on_retrace_logging():
    code = ("import ember\nf = ember.compile(lambda x: x + 1)\n"
            "f(ember.ones(2)); f(ember.ones(3))\n")
    env = dict(os.environ, EMBER_LOG="recompiles")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "retracing" in out.stderr
    assert "tensor float32[2] -> tensor float32[3]" in out.stderr


def test_no_logging_by_default(caplog):
    f = ember.compile(lambda x: x + 1)
    with caplog.at_level(logging.WARNING, logger="ember.compile"):
        f(ember.ones(2))
        f(ember.ones(3))
    assert "retracing" not in caplog.text
    assert f.last_reason is not None  # still recorded


def test_too_many_retraces_warns_once_with_the_reason():
    f = ember.compile(lambda x, k: x * k, max_retraces=3)
    x = ember.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(6):
            f(x, k)
    mine = [w for w in caught if "has been traced" in str(w.message)]
    assert len(mine) == 1
    assert "argument 'k' changed: 2 -> 3" in str(mine[0].message)
    assert "0-d tensors" in str(mine[0].message)


def test_zero_d_tensor_arguments_do_not_retrace():
    f = ember.compile(lambda x, k: x * k)
    x = ember.ones(2)
    for k in (1.0, 2.0, 3.0):
        out = f(x, ember.tensor(k))
        np.testing.assert_array_equal(out.numpy(), [k, k])
    assert f.traces == 1


# ---------------------------------------------------------------------- errors at the user's line


def test_control_flow_on_a_tensor_names_this_line():
    @ember.compile
    def f(x):
        if x.sum() > 0:  # the line the error must name
            return x
        return -x

    with pytest.raises(ember.GraphError) as info:
        f(_t(3))
    msg = str(info.value)
    assert f"{HERE}:{_line_of('# the line the error must name')}" in msg
    assert "ember.where" in msg and "ember.cond" in msg


@pytest.mark.parametrize("read", ["item", "float", "numpy", "tolist"])
def test_reading_a_value_while_tracing_is_a_graph_error(read):
    def f(x):
        s = x.sum()
        if read == "item":
            return s.item()
        if read == "float":
            return float(s)
        if read == "numpy":
            return s.numpy()
        return s.tolist()

    with pytest.raises(ember.GraphError, match=f"{os.path.basename(HERE)}"):
        ember.compile(f)(_t(3))


def test_shape_error_at_trace_time_names_op_shapes_and_line():
    w = _t(3, 4)

    @ember.compile
    def f(x):
        return x @ w  # mismatched matmul

    with pytest.raises(ember.ShapeError) as info:
        f(_t(2, 5))
    msg = str(info.value)
    assert f"{HERE}:{_line_of('# mismatched matmul')}" in msg
    assert "matmul" in msg and "[2, 5]" in msg and "[3, 4]" in msg


def test_error_while_running_names_the_node_and_line():
    table = _t(4, 3)

    @ember.compile
    def f(idx):
        return table[idx]  # data-dependent index

    f(ember.tensor([0, 1]))  # traces
    with pytest.raises(ember.GraphError) as info:
        f(ember.tensor([0, 9]))
    msg = str(info.value)
    assert f"{HERE}:{_line_of('# data-dependent index')}" in msg
    assert "while running the compiled" in msg


# ---------------------------------------------------------------------- ember.cond


def test_cond_eager_and_compiled_take_the_branch_of_each_call():
    def f(x):
        return ember.cond(x.sum() > 0, lambda a: a * 2, lambda a: -a, x)

    g = ember.compile(f)
    for values in ([1.0, 2.0], [-1.0, -2.0], [3.0, -1.0], [-5.0, 1.0]):
        x = ember.tensor(values)
        np.testing.assert_array_equal(g(x).numpy(), f(x).numpy())
    assert g.traces == 1
    assert "if %" in str(g.graph) and "if v" in g.code


def test_cond_with_python_bool_and_tuples():
    out = ember.cond(True, lambda a, b: (a + b, a - b), lambda a, b: (a, b), ember.ones(2),
                     ember.ones(2))
    assert isinstance(out, tuple) and out[0].tolist() == [2.0, 2.0]

    @ember.compile
    def f(a, b):
        return ember.cond(a.max() > b.max(), lambda a, b: (a, b), lambda a, b: (b, a), a, b)

    x, y = ember.tensor([1.0, 5.0]), ember.tensor([2.0, 3.0])
    first, second = f(x, y)
    assert first.tolist() == [1.0, 5.0]
    first, second = f(y, x)
    assert first.tolist() == [1.0, 5.0] and second.tolist() == [2.0, 3.0]


def test_cond_branch_returning_its_operand_does_not_alias():
    @ember.compile
    def f(x):
        y = ember.cond(x.sum() > 0, lambda a: a, lambda a: a * 0, x)
        return y + x

    np.testing.assert_array_equal(f(ember.tensor([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(f(ember.tensor([-1.0, -2.0])).numpy(), [-1.0, -2.0])


def test_cond_errors():
    x = ember.ones(2)
    with pytest.raises(ember.GraphError, match="different between|differs between"):
        ember.compile(lambda x: ember.cond(x.sum() > 0, lambda a: a, lambda a: a.sum(), x))(x)
    w = ember.zeros(2)

    def writes(a):
        w.add_(a)
        return a

    with pytest.raises(ember.GraphError, match="writes into a tensor from outside"):
        ember.compile(lambda x: ember.cond(x.sum() > 0, writes, lambda a: a, x))(x)
    with pytest.raises(ember.GraphError, match="gradients through cond"):
        ember.compile(lambda x: ember.cond(x.sum() > 0, lambda a: a, lambda a: -a, x))(
            ember.ones(2, requires_grad=True))
    with pytest.raises(ember.GraphError, match="exactly one element"):
        ember.cond(ember.ones(2) > 0, lambda a: a, lambda a: a, x)
    with pytest.raises(TypeError, match="callable"):
        ember.cond(True, 1, lambda a: a, x)
    with pytest.raises(TypeError, match="pred must be"):
        ember.cond("yes", lambda a: a, lambda a: a, x)


# ---------------------------------------------------------------------- side effects


def test_print_and_outside_appends_warn_once_with_the_line():
    log = []

    @ember.compile
    def f(x):
        print("tracing")  # warned print
        log.append(1)  # warned append
        local = []
        local.append(x)  # a list made inside: not a side effect
        return x * 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f(ember.ones(2))
        f(ember.ones(2))
    mine = [w for w in caught if "only while ember.compile traces" in str(w.message)]
    assert sorted(w.lineno for w in mine) == [_line_of("# warned print"),
                                              _line_of("# warned append")]
    assert all(w.filename == HERE for w in mine)
    assert log == [1]


# ---------------------------------------------------------------------- the API


def test_decorator_forms_and_options():
    @ember.compile
    def a(x):
        return x + 1

    @ember.compile(verbose=True, max_retraces=2)
    def b(x):
        return x + 1

    assert isinstance(a, ember.graph.CompiledFunction) and b.max_retraces == 2
    assert a(ember.ones(2)).tolist() == [2.0, 2.0]
    assert ember.compile(a) is a
    assert a.__wrapped__.__name__ == "a"


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(fn=3), TypeError, "expects a function or a Module"),
    (dict(fn=lambda x: x, backend="xla"), ValueError, "unknown backend"),
    (dict(fn=lambda x: x, max_retraces=0), ValueError, "max_retraces"),
])
def test_bad_arguments(kwargs, error, match):
    fn = kwargs.pop("fn")
    with pytest.raises(error, match=match):
        ember.compile(fn, **kwargs)


def test_inspection_before_the_first_call_is_a_clear_error():
    f = ember.compile(lambda x: x + 1)
    for get in (lambda: f.graph, lambda: f.code, f.memory_plan):
        with pytest.raises(ember.GraphError, match="has not been called yet"):
            get()


def test_graph_lists_nodes_with_source_lines_and_code_is_python():
    w = _t(3, 2)

    @ember.compile
    def f(x):
        return (x @ w).relu()  # the traced line

    f(_t(4, 3))
    text = str(f.graph)
    assert "matmul" in text and "relu" in text
    assert f"{HERE}:{_line_of('# the traced line')}" in text
    assert "float32[4, 2]" in text
    assert f.code.startswith("def run(")
    compile(f.code, "<check>", "exec")  # valid Python


def test_outputs_are_detached_and_structure_is_kept():
    w = _t(3).requires_grad_()

    @ember.compile
    def f(x):
        y = x * w
        return {"y": y, "parts": (y.sum(), 7)}

    for _ in range(2):
        out = f(_t(3))
        assert set(out) == {"y", "parts"}
        assert not out["y"].requires_grad and out["parts"][1] == 7


def test_compiled_module_delegates_attributes_and_nests():
    model = nn.Linear(3, 2)
    cm = ember.compile(model)
    assert cm.weight is model.weight and cm.in_features == 3
    inner = ember.compile(lambda x: x * 2)
    outer = ember.compile(lambda x: inner(x) + 1)
    x = _t(2)
    np.testing.assert_allclose(outer(x).numpy(), x.numpy() * 2 + 1)
    np.testing.assert_allclose(outer(x).numpy(), x.numpy() * 2 + 1)
    assert inner.traces == 0  # inlined into the outer trace
    np.testing.assert_allclose(cm(_t(4, 3)).numpy(), model(_t(4, 3)).detach().numpy())


# ---------------------------------------------------------------------- backend="onnxruntime"


def test_onnxruntime_backend_matches_and_never_uses_a_stale_weight():
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed (ember[onnx])")
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 3)).eval()
    f = ember.compile(model, backend="onnxruntime")
    x = _t(4, 8)
    with ember.no_grad():
        f(x)  # traces (eager)
        np.testing.assert_allclose(f(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
        assert "ONNX Runtime" in f.code
        model[0].weight.mul_(2)  # an in-place update moves the version counter
        np.testing.assert_allclose(f(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
        model[2].weight.data = _t(3, 16, seed=5)  # a replaced array
        np.testing.assert_allclose(f(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_onnxruntime_backend_refuses_training_steps():
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed (ember[onnx])")
    model = nn.Linear(3, 2)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        loss = model(x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    with pytest.raises(ember.GraphError, match="forward-only"):
        ember.compile(step, backend="onnxruntime")(_t(2, 3))
