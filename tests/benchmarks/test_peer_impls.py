"""The TensorFlow and JAX benchmark models compute PyTorch's function and PyTorch's updates.

For every workload and every TensorFlow/JAX mode, on the canonical weights and data of
``benchmarks.workloads.spec`` (W3-W5 at a reduced batch of 4, to keep the test fast):

- ``predict`` before training equals the torch reference's logits (atol 1e-4);
- the losses returned by the first and second ``step`` equal torch's (rtol 1e-4);
- ``predict`` after those two steps equals torch's (atol 1e-4), so every parameter was updated
  the same way.

Those end-to-end tolerances cannot see small optimizer details (AdamW's decay is 1e-5 of a weight
per step), so the optimizers are also checked alone against ``torch.optim`` with exaggerated
hyperparameters (large lr, weight decay and eps) where every term of the update matters.

TensorFlow and JAX are optional: in an environment without them (``/tmp/refenv``) those tests
skip with the import error as the reason. Run them in the benchmark env::

    /tmp/benchenv/bin/python -m pytest tests/benchmarks/test_peer_impls.py -q
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from benchmarks.frameworks import ModeUnavailable, load
from benchmarks.workloads import WORKLOADS, init_weights, make_batch

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD_IDS = sorted(WORKLOADS)
SMALL_BATCH = {"W3": 4, "W4": 4, "W5": 4}
PEER_CELLS = [("tensorflow", "eager"), ("tensorflow", "function"),
              ("tensorflow", "function_jit"), ("jax", "jit")]
LOGITS_ATOL = 1e-4
LOSS_RTOL = 1e-4


def _framework_or_skip(name: str):
    """The benchmark module of ``name``, or skip the test with why it can't run here."""
    module = load(name)
    ok, reason = module.available()
    if not ok:
        pytest.skip(f"{name} is not installed in this environment ({sys.executable}): {reason}")
    return module


def _trajectory(runner, workload_id: str) -> dict:
    """Logits, two step losses, logits again: what the comparison needs from a runner."""
    batches = [make_batch(workload_id, seed, SMALL_BATCH.get(workload_id)) for seed in (0, 1)]
    before = runner.predict(batches[0][0])
    losses = [runner.step(x, y) for x, y in batches]
    after = runner.predict(batches[0][0])
    return {"before": before, "losses": losses, "after": after}


@pytest.fixture(scope="module")
def torch_reference():
    """``get(workload_id)`` -> the torch eager trajectory, computed once per workload."""
    cache: dict = {}

    def get(workload_id: str) -> dict:
        if workload_id not in cache:
            torch_module = _framework_or_skip("torch")
            runner = torch_module.build(workload_id, "eager", init_weights(workload_id, 0), 0)
            cache[workload_id] = _trajectory(runner, workload_id)
        return cache[workload_id]

    return get


@pytest.mark.parametrize("workload_id", WORKLOAD_IDS)
@pytest.mark.parametrize("framework,mode", PEER_CELLS, ids=[f"{f}-{m}" for f, m in PEER_CELLS])
def test_peer_matches_torch(framework, mode, workload_id, torch_reference):
    module = _framework_or_skip(framework)
    try:
        runner = module.build(workload_id, mode, init_weights(workload_id, 0), 0)
    except ModeUnavailable as error:
        pytest.skip(f"{framework} {mode} unavailable here: {error}")
    ref = torch_reference(workload_id)
    got = _trajectory(runner, workload_id)

    assert got["before"].shape == ref["before"].shape
    assert got["before"].dtype == np.float32
    np.testing.assert_allclose(got["before"], ref["before"], rtol=0, atol=LOGITS_ATOL)
    assert all(isinstance(loss, float) for loss in got["losses"])
    np.testing.assert_allclose(got["losses"], ref["losses"], rtol=LOSS_RTOL)
    # The update moved the model (the second comparison is not the first one again).
    assert np.abs(ref["after"] - ref["before"]).max() > 10 * LOGITS_ATOL
    np.testing.assert_allclose(got["after"], ref["after"], rtol=0, atol=LOGITS_ATOL)


# ---------------------------------------------------------------- optimizers alone

OPTIMIZER_CASES = [
    ("sgd", {"lr": 0.3, "momentum": 0.9}),
    ("adam", {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-2}),
    ("adamw", {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-2, "weight_decay": 0.5}),
]
OPT_STEPS = 3


def _optimizer_problem():
    """Initial parameters and a fixed gradient per step (some tiny, so eps matters)."""
    rng = np.random.default_rng(7)
    shapes = {"w": (5, 3), "b": (3,)}
    params = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    grads = [{k: (rng.standard_normal(s) * rng.choice([1e-3, 1.0], size=s)).astype(np.float32)
              for k, s in shapes.items()} for _ in range(OPT_STEPS)]
    return params, grads


def _torch_optimizer_run(kind, hp):
    torch = pytest.importorskip("torch", reason="torch is needed as the optimizer reference")
    params, grads = _optimizer_problem()
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    opt = cls(list(tensors.values()), **hp)
    history = []
    for step_grads in grads:
        for k, t in tensors.items():
            t.grad = torch.tensor(step_grads[k])
        opt.step()
        history.append({k: t.detach().numpy().copy() for k, t in tensors.items()})
    return history


@pytest.mark.parametrize("kind,hp", OPTIMIZER_CASES, ids=[c[0] for c in OPTIMIZER_CASES])
def test_tensorflow_optimizer_matches_torch_optim(kind, hp):
    _framework_or_skip("tensorflow")
    import tensorflow as tf
    from benchmarks.frameworks import tensorflow_impl

    expected = _torch_optimizer_run(kind, hp)
    params, grads = _optimizer_problem()
    variables = {k: tf.Variable(v) for k, v in params.items()}
    opt = tensorflow_impl.Optimizer(tf, kind, hp, list(variables.values()))
    for step, step_grads in enumerate(grads):
        opt.apply([tf.constant(step_grads[k]) for k in variables])
        for k, var in variables.items():
            np.testing.assert_allclose(var.numpy(), expected[step][k], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{kind} step {step + 1} {k}")


@pytest.mark.parametrize("kind,hp", OPTIMIZER_CASES, ids=[c[0] for c in OPTIMIZER_CASES])
def test_jax_optimizer_matches_torch_optim(kind, hp):
    _framework_or_skip("jax")
    import jax
    from benchmarks.frameworks import jax_impl

    expected = _torch_optimizer_run(kind, hp)
    params, grads = _optimizer_problem()
    init, update = jax_impl.optimizer(kind, hp)
    state = init(params)
    update = jax.jit(update)
    for step, step_grads in enumerate(grads):
        params, state = update(params, step_grads, state)
        for k in params:
            np.testing.assert_allclose(np.asarray(params[k]), expected[step][k], rtol=1e-5,
                                       atol=1e-6, err_msg=f"{kind} step {step + 1} {k}")


# ---------------------------------------------------------------- no heavy imports needed

@pytest.mark.parametrize("framework", ["tensorflow", "jax"])
def test_contract_without_the_framework(framework):
    """MODES, available() and the unknown-mode error work whether or not it is installed."""
    module = load(framework)
    assert module.MODES == {"tensorflow": ("eager", "function", "function_jit"),
                            "jax": ("jit",)}[framework]
    ok, reason = module.available()
    assert isinstance(ok, bool) and isinstance(reason, str) and reason
    with pytest.raises(ModeUnavailable, match="no mode 'graph'"):
        module.build("W1", "graph", init_weights("W1", 0), 0)


def test_modules_import_no_framework_at_import_time():
    code = ("import sys; import benchmarks.frameworks.tensorflow_impl, "
            "benchmarks.frameworks.jax_impl; "
            "print(sorted(m for m in ('tensorflow', 'jax', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("workload_id,channels,side", [("W2", 64, 7), ("W3", 128, 8)])
def test_tf_layout_conversion_keeps_the_function(workload_id, channels, side):
    """NHWC conv and permuted fc1 compute what the NCHW PyTorch layers compute (NumPy only)."""
    from benchmarks.frameworks.tensorflow_impl import to_tf_layout

    torch_w = init_weights(workload_id, 3)
    tf_w = to_tf_layout(workload_id, torch_w)
    assert set(tf_w) == set(torch_w)
    rng = np.random.default_rng(0)
    act = rng.standard_normal((2, channels, side, side)).astype(np.float32)  # NCHW activation
    expected = act.reshape(2, -1) @ torch_w["fc1.weight"].T
    got = act.transpose(0, 2, 3, 1).reshape(2, -1) @ tf_w["fc1.weight"]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(tf_w["conv1.weight"],
                                  torch_w["conv1.weight"].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(tf_w["fc2.weight"], torch_w["fc2.weight"].T)
