"""Module, containers and summary: registration, traversal, state_dict, modes, dtypes, hooks,
printing (against torch.nn's text for the same structure) and the error path."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


class Block(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.fc = lib.Linear(4, 8)
        self.act = lib.ReLU()
        self.out = lib.Linear(8, 2, bias=False)

    def forward(self, x):
        return self.out(self.act(self.fc(x)))


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 8)
        self.act = torch.nn.ReLU()
        self.out = torch.nn.Linear(8, 2, bias=False)

    def forward(self, x):
        return self.out(self.act(self.fc(x)))


def _pair_models():
    me = nn.Sequential(OrderedDict(block=Block(nn), drop=nn.Dropout(0.1), head=nn.Linear(2, 3)))
    mt = torch.nn.Sequential(OrderedDict(block=TorchBlock(), drop=torch.nn.Dropout(0.1),
                                         head=torch.nn.Linear(2, 3)))
    return me, mt


def test_named_parameters_and_modules_order_match_torch():
    me, mt = _pair_models()
    assert [n for n, _ in me.named_parameters()] == [n for n, _ in mt.named_parameters()]
    assert [n for n, _ in me.named_modules()] == [n for n, _ in mt.named_modules()]
    assert [n for n, _ in me.named_children()] == ["block", "drop", "head"]
    assert list(me.state_dict()) == list(mt.state_dict())


def test_shared_parameters_listed_once():
    a = nn.Linear(3, 3)
    model = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    tied = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    tied[1].weight = tied[0].weight
    assert [n for n, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_repr_matches_torch():
    me, mt = _pair_models()
    assert repr(me).replace("Block", "X") == repr(mt).replace("TorchBlock", "X")


def test_state_dict_roundtrip_copies_values():
    me, _ = _pair_models()
    other, _ = _pair_models()
    result = other.load_state_dict(me.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n, p), (_, q) in zip(me.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=n)
        assert p._data is not q._data


def test_load_state_dict_from_torch_gives_torch_outputs():
    me, mt = _pair_models()
    me.load_state_dict({k: ember.tensor(v.numpy()) for k, v in mt.state_dict().items()})
    me.eval()
    mt.eval()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(me(ember.tensor(x)).detach().numpy(),
                               mt(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_state_dict_strict_lists_every_problem():
    me, _ = _pair_models()
    sd = me.state_dict()
    del sd["head.bias"]
    sd["extra.weight"] = ember.zeros(1)
    sd["block.fc.weight"] = ember.zeros(3, 3)
    with pytest.raises(ember.ShapeError) as info:
        me.load_state_dict(sd)
    msg = str(info.value)
    assert "block.fc.weight: checkpoint has shape [3, 3], the model has [8, 4]" in msg
    assert "missing keys: head.bias" in msg and "unexpected keys: extra.weight" in msg
    del sd["block.fc.weight"]
    res = me.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["block.fc.weight", "head.bias"]
    assert res.unexpected_keys == ["extra.weight"]


def test_train_eval_propagate():
    me, _ = _pair_models()
    me.eval()
    assert all(not m.training for m in me.modules())
    me.train()
    assert all(m.training for m in me.modules())
    me.block.eval()
    assert me.training and not me.block.fc.training


def test_to_dtype_and_zero_grad():
    me, _ = _pair_models()
    me.double()
    assert all(p.dtype == ember.float64 for p in me.parameters())
    out = me(ember.randn(2, 4, dtype=ember.float64)).sum()
    out.backward()
    assert all(p.grad is not None for p in me.parameters())
    me.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() for p in me.parameters())
    me.zero_grad()
    assert all(p.grad is None for p in me.parameters())
    with pytest.raises(TypeError, match="floating point"):
        me.to(ember.int64)


def test_apply_visits_children_first():
    me, _ = _pair_models()
    seen = []
    me.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Block", "Dropout", "Linear", "Sequential"]


def test_forward_hooks_and_removal():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    y = m(ember.ones(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(m.bias.detach().numpy() + 1,
                                                                   (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    m(ember.ones(1, 2))
    assert calls == [(3, 2)]


def test_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(ember.zeros(2))
    m.register_buffer("running", ember.zeros(2))
    m.register_buffer("tmp", ember.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["w", "running"]
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'w'"):
        m.w = 3
    with pytest.raises(KeyError, match="can't contain"):
        m.register_buffer("a.b", ember.zeros(1))
    del m.w
    assert list(m.state_dict()) == ["running"]


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    with pytest.raises(IndexError, match="index 5 is out of range for length 3"):
        seq[5]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    md = nn.ModuleDict({"a": nn.Linear(1, 2)})
    assert "a" in md and list(md.keys()) == ["a"]
    pl = nn.ParameterList([nn.Parameter(ember.zeros(2)) for _ in range(2)])
    assert len(list(pl.parameters())) == 2


@pytest.mark.parametrize("container", ["Sequential", "ModuleList"])
def test_delete_and_insert_renumber_like_torch(container):
    # after `del seq[0]` PyTorch renames the rest "0", "1", ...; without renumbering a later
    # append would reuse the name "2" and silently replace the last module
    def build(lib):
        make = getattr(lib, container)
        mods = [lib.ReLU(), lib.Tanh(), lib.Sigmoid()]
        c = make(*mods) if container == "Sequential" else make(mods)
        del c[0]
        c.append(lib.ELU())
        c.insert(1, lib.Identity())
        c.insert(len(c) - 1, lib.ReLU6())  # torch.nn.ModuleList.insert rejects -1
        return c

    ours, theirs = build(nn), build(torch.nn)
    assert list(ours._modules) == list(theirs._modules)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    with pytest.raises(IndexError, match=f"{container}.insert: index 9 is out of range"):
        ours.insert(9, nn.ReLU())


def test_deepcopy_is_independent():
    m = nn.Linear(2, 2)
    c = copy.deepcopy(m)
    with ember.no_grad():
        c.weight.fill_(0.0)
    assert not (m.weight.detach().numpy() == 0).all()


def test_error_path_names_the_innermost_module():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 8)), nn.Linear(8, 2))
    with pytest.raises(ember.ShapeError, match=r"^0\.0 \(Linear 2->4\): linear: expected"):
        model(ember.randn(3, 5))
    inner = nn.Sequential(nn.Linear(2, 4), nn.Linear(5, 8))
    with pytest.raises(ember.ShapeError, match=r"^1 \(Linear 5->8\): "):
        inner(ember.randn(3, 2))


def test_summary_table():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    lines = []
    text = model.summary((4,), print_fn=lines.append)
    assert lines == [text]
    assert "0 (Linear)" in text and "[None, 8]" in text and "2 (Linear)" in text
    assert "Total params: 58" in text and "Trainable params: 58" in text
    assert model.training  # restored after the eval-mode pass
    with pytest.raises(ember.ShapeError, match=r"^0 \(Linear 4->8\)"):
        model.summary((5,), print_fn=None)
