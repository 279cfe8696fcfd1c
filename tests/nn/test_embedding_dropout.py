"""nn.Embedding and nn.Dropout: identical weights vs torch (float64, 1e-10), init, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("padding_idx", [None, 0, -2])
def test_embedding_matches_torch(padding_idx):
    mt = torch.nn.Embedding(10, 4, padding_idx=padding_idx, dtype=torch.float64)
    me = nn.Embedding(10, 4, padding_idx=padding_idx, dtype=ember.float64)
    me.load_state_dict({"weight": ember.tensor(mt.weight.detach().numpy())})
    idx = np.array([[0, 3, 3], [9, 8, 0]])
    ye, yt = me(ember.tensor(idx)), mt(torch.tensor(idx))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    g = np.random.default_rng(0).standard_normal(yt.shape)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(me.weight.grad.numpy(), mt.weight.grad.numpy(), rtol=1e-10)
    assert repr(me) == repr(mt)


def test_embedding_init_and_padding_row():
    m = nn.Embedding(1000, 64, padding_idx=3)
    w = m.weight.detach().numpy()
    assert (w[3] == 0).all()
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01
    assert m.describe() == "Embedding 1000x64"


def test_embedding_from_pretrained_is_frozen():
    table = ember.randn(5, 2)
    m = nn.Embedding.from_pretrained(table)
    assert not m.weight.requires_grad
    np.testing.assert_array_equal(m(ember.tensor([4])).numpy(), table.numpy()[[4]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_embedding_errors_name_the_layer():
    model = nn.Sequential(nn.Embedding(10, 3))
    with pytest.raises(ember.DTypeError, match=r"^0 \(Embedding 10x3\): .*integer"):
        model(ember.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match=r"index 10 is out of range.*num_embeddings=10"):
        model(ember.tensor([[1, 10]]))
    with pytest.raises(ValueError, match="padding_idx 12 must be within"):
        nn.Embedding(10, 3, padding_idx=12)


def test_dropout_train_and_eval():
    m = nn.Dropout(0.25)
    assert repr(m) == repr(torch.nn.Dropout(0.25)) and m.describe() == "Dropout p=0.25"
    x = ember.ones(100, 100)
    ember.manual_seed(0)
    y = m(x).numpy()
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.75, rtol=1e-6)
    ember.manual_seed(0)
    np.testing.assert_array_equal(m(x).numpy(), y)  # reproducible under manual_seed
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)


def test_dropout2d_module():
    m = nn.Dropout2d(0.5)
    assert repr(m) == repr(torch.nn.Dropout2d(0.5))
    y = m(ember.ones(4, 8, 2, 2)).numpy().reshape(4, 8, 4)
    assert np.all((y == 0).all(-1) | (y == 2).all(-1))
