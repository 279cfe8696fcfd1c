"""The multi-tensor optimizer update (graph/passes/multi_tensor.py).

Every case trains the same model twice from one seed, eagerly and through ``ember.compile``,
and compares each step's loss and then every parameter, gradient and optimizer-state tensor
bit for bit; it also checks that the pass did merge the updates (the graph has flat arenas),
so a case cannot pass by the pass silently doing nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.graph.memory import check_plan
from ember.graph.passes import multi_tensor as mt

STEPS = 20


def _state_arrays(model, opt) -> list:
    out = [t.detach().numpy().copy() for t in model.state_dict().values()]
    for p in model.parameters():
        for key, t in sorted(opt.state.get(p, {}).items()):
            if isinstance(t, ember.Tensor):
                out.append((key, t.detach().numpy().copy()))
        out.append(None if p.grad is None else p.grad.detach().numpy().copy())
    return out


def _assert_same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for k, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, tuple):
            assert x[0] == y[0]
            x, y = x[1], y[1]
        if x is None or y is None:
            assert x is None and y is None, f"tensor {k}"
            continue
        np.testing.assert_array_equal(x, y, err_msg=f"tensor {k}")


def _mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 5))


def _batches(n=STEPS, features=12, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    return [(ember.tensor(rng.standard_normal((8, features)).astype(np.float32)),
             ember.tensor(rng.integers(0, classes, 8))) for _ in range(n)]


def _train(make_model, make_opt, batches, compiled, step_fn=None, between=None):
    ember.manual_seed(0)
    model = make_model()
    opt = make_opt(model)

    def step(x, y, *flags):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) if step_fn is None else step_fn(model, x, y, *flags)
        loss.backward()
        opt.step()
        return loss

    fn = ember.compile(step) if compiled else step
    losses = []
    for k, batch in enumerate(batches):
        losses.append(fn(*batch).detach().numpy().copy())
        if between is not None:
            between(k, model, opt)
    return losses, _state_arrays(model, opt), fn


def _check(make_model, make_opt, batches=None, **kw):
    batches = batches or _batches()
    eager = _train(make_model, make_opt, batches, False, **kw)
    compiled = _train(make_model, make_opt, batches, True, **kw)
    for k, (a, b) in enumerate(zip(compiled[0], eager[0])):
        np.testing.assert_array_equal(a, b, err_msg=f"loss of step {k}")
    _assert_same(compiled[1], eager[1])
    fn = compiled[2]
    graph = fn.graph
    assert getattr(graph, "arenas", None), "the pass merged nothing"
    assert check_plan(fn.memory_plan(), graph) == []
    return fn


OPTIMIZERS = {
    "adam": lambda m: ember.optim.Adam(m.parameters(), lr=1e-2),
    "adamw": lambda m: ember.optim.AdamW(m.parameters(), lr=1e-2, weight_decay=0.1),
    "adam_l2_amsgrad": lambda m: ember.optim.Adam(m.parameters(), lr=1e-2, weight_decay=0.05,
                                                  amsgrad=True),
    "sgd_momentum": lambda m: ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9),
    "sgd_nesterov_wd": lambda m: ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9,
                                                 nesterov=True, weight_decay=1e-3),
    "rmsprop": lambda m: ember.optim.RMSprop(m.parameters(), lr=1e-2, momentum=0.5),
    "adagrad_lr_decay": lambda m: ember.optim.Adagrad(m.parameters(), lr=1e-2, lr_decay=0.01),
    "adam_maximize": lambda m: ember.optim.Adam(m.parameters(), lr=1e-3, maximize=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_mlp_optimizers_bitwise(name):
    fn = _check(_mlp, OPTIMIZERS[name])
    names = [n.op.name for n in fn.graph.nodes]
    assert "flat_concat" in names  # the gradients of the batch, one flat array


def test_float64_and_float32_parameters_batch_apart():
    def make():
        return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16, dtype="float64"),
                             nn.ReLU(), nn.Linear(16, 5, dtype="float64"))

    def step_fn(model, x, y):
        h = model[1](model[0](x))
        return F.cross_entropy(model[4](model[3](model[2](h.double()))), y)
    fn = _check(make, OPTIMIZERS["adamw"], step_fn=step_fn)
    dtypes = {str(arena._data.dtype) for arena, _ in fn.graph.arenas}
    assert {"float32", "float64"} <= dtypes


def test_param_groups_with_different_lr():
    def opt(m):
        layers = [m[0], m[2], m[4]]
        return ember.optim.AdamW([{"params": layers[0].parameters(), "lr": 3e-2},
                                  {"params": layers[1].parameters()},
                                  {"params": layers[2].parameters(), "lr": 1e-3,
                                   "weight_decay": 0.0}], lr=1e-2)
    _check(_mlp, opt)


def test_lr_scheduler_between_compiled_steps():
    def between(k, model, opt):
        for g in opt.param_groups:
            g["lr"] = g["lr"] * (0.5 if k % 3 == 0 else 1.1)
    _check(_mlp, OPTIMIZERS["adam"], between=between)


def test_parameter_without_grad_in_some_steps():
    """A head used only on odd steps: its parameters have no .grad on even steps (the
    optimizer skips them, its step counters fall behind), so two graphs share tensors."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _mlp()
            self.extra = nn.Linear(12, 5)

    def step_fn(model, x, y, use_extra):
        out = model.body(x)
        if use_extra:
            out = out + model.extra(x)
        return F.cross_entropy(out, y)

    batches = [b + (k % 2 == 1,) for k, b in enumerate(_batches())]
    fn = _check(Net, OPTIMIZERS["adam"], batches=batches, step_fn=step_fn)
    assert fn.traces <= 4


def test_step_counters_that_differ_expand_per_parameter():
    """A parameter group added after some steps: its step counters start behind, so the
    per-parameter scalars of one batch differ and are widened element by element."""
    def make_opt(m):
        opt = ember.optim.Adam(m[0].parameters(), lr=1e-2)
        opt.pending = list(m[2].parameters()) + list(m[4].parameters())
        return opt

    def between(k, model, opt):
        if k == 3:
            opt.add_param_group({"params": opt.pending})
    _check(_mlp, make_opt, between=between)


def _small_transformer():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(11, 16)
            self.layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                                    batch_first=True)
            self.head = nn.Linear(16, 11)

        def forward(self, x):
            return self.head(self.layer(self.embed(x)))
    return Net()


def test_small_transformer_adamw():
    rng = np.random.default_rng(1)
    batches = [(ember.tensor(rng.integers(0, 11, (4, 6))), ember.tensor(rng.integers(0, 11, 24)))
               for _ in range(STEPS)]

    def step_fn(model, x, y):
        logits = model(x)
        return F.cross_entropy(logits.reshape(-1, 11), y)

    fn = _check(_small_transformer,
                lambda m: ember.optim.AdamW(m.parameters(), lr=1e-2), batches=batches,
                step_fn=step_fn)
    assert sum(len(pairs) for _, pairs in fn.graph.arenas) > 20


def test_load_state_dict_between_steps():
    """The optimizer's state is replaced by new tensors (load_state_dict of a snapshot taken
    at step 5, loaded at step 10): the compiled step must keep up, never update a stale arena."""
    snap = {}

    def between(k, model, opt):
        if k == 5:
            snap["opt"] = {"state": {i: {key: t.clone() for key, t in s.items()}
                                     for i, s in opt.state_dict()["state"].items()},
                           "param_groups": opt.state_dict()["param_groups"]}
        if k == 10:
            opt.load_state_dict(snap["opt"])
    _check(_mlp, OPTIMIZERS["adam"], between=between)


def test_replacing_a_parameter_array_and_a_state_tensor():
    def between(k, model, opt):
        p = model[0].weight
        if k == 6:
            with ember.no_grad():
                p.data = ember.tensor(np.full(p.shape, 0.01, np.float32))
        if k == 9:
            opt.state[p]["exp_avg"] = ember.zeros(p.shape)
    _check(_mlp, OPTIMIZERS["adam"], between=between)


def test_eager_steps_after_compiled_ones_see_the_arena():
    """Eager code reads and writes the relocated tensors through ``_data`` as before."""
    batches = _batches(8)

    def run(compiled_first):
        ember.manual_seed(0)
        model = _mlp()
        opt = OPTIMIZERS["adam"](model)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        fn = ember.compile(step) if compiled_first else step
        for b in batches[:4]:
            fn(*b)
        for b in batches[4:]:
            step(*b)
        return _state_arrays(model, opt)

    _assert_same(run(True), run(False))


def test_pass_off_gives_the_per_parameter_graph(monkeypatch):
    monkeypatch.setattr(mt, "ENABLED", False)
    _, _, fn = _train(_mlp, OPTIMIZERS["adam"], _batches(3), True)
    assert not getattr(fn.graph, "arenas", None)


def test_merged_graph_runs_fewer_nodes():
    batches = _batches(3)
    _, _, merged = _train(_mlp, OPTIMIZERS["adam"], batches, True)
    mt.ENABLED = False
    try:
        _, _, plain = _train(_mlp, OPTIMIZERS["adam"], batches, True)
    finally:
        mt.ENABLED = True
    assert len(merged.graph.nodes) < len(plain.graph.nodes) - 20


def test_large_parameters_keep_their_own_kernels(monkeypatch):
    monkeypatch.setattr(mt, "BUCKET_ELEMENTS", 64)
    _, _, fn = _train(_mlp, OPTIMIZERS["sgd_momentum"], _batches(3), True)
    merged = [t for _, pairs in fn.graph.arenas for t, _ in pairs]
    # the three biases (16, 16, 5 elements) and their momentum buffers; no weight
    assert len(merged) == 6 and all(t.numel() < 64 for t in merged)


def test_a_retrace_reuses_the_arena_of_the_earlier_trace():
    """A second graph of the same step (another batch size) finds the tensors already laid out
    in an arena and uses it as is: no tensor moves, no copies between the two graphs."""
    small = _batches(6, seed=3)
    batches = _batches(6) + [(x[:4], y[:4]) for x, y in small] + _batches(4, seed=5)
    fn = _check(_mlp, OPTIMIZERS["adam"], batches=batches)
    assert fn.traces == 3
    # the three graphs (Adam's first step, which makes the state, then two batch sizes) all
    # work on the arenas the first one laid out
    graphs = [entry.graph for entry in fn._cache.values()]
    flats = [{id(arena._data) for arena, _ in g.arenas} for g in graphs]
    assert len(flats[0]) >= 4 and flats[0] == flats[1] == flats[2]
