"""Bad input to the matrix products and the softmax family, plus behaviour the op-info
tables cannot express (numerical stability, graph-mode infer rules, what is saved)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import einsum as einsum_mod
from ember.ops import linalg, nn
from ember.spec import TensorSpec


def r(*shape, dtype=ember.float32):
    return ember.randn(*shape, dtype=dtype)


# ------------------------------------------------------------------------ matmul family


def test_matmul_inner_mismatch_names_both_shapes_and_sizes():
    with pytest.raises(ember.ShapeError, match=r"matmul: shapes \[3, 4\] and \[5, 6\].*4.*5"):
        r(3, 4) @ r(5, 6)


def test_matmul_vector_mismatch():
    with pytest.raises(ember.ShapeError, match=r"\[3\] and \[4, 2\].*3.*4"):
        ember.matmul(r(3), r(4, 2))


def test_matmul_batch_dims_must_broadcast():
    with pytest.raises(ember.ShapeError, match=r"matmul \(batch dimensions\).*\[2\], \[3\]"):
        ember.matmul(r(2, 3, 4), r(3, 4, 5))


def test_matmul_rejects_0d():
    with pytest.raises(ember.ShapeError, match="at least 1-D.*0-D and 2-D"):
        ember.matmul(ember.tensor(2.0), r(2, 2))


def test_matmul_mixed_dtypes_names_both():
    with pytest.raises(ember.DTypeError, match="matmul: .*same dtype.*float32 and float64"):
        r(3, 4) @ r(4, 2, dtype=ember.float64)
    with pytest.raises(ember.DTypeError, match="int64 and float32"):
        ember.ones(2, 3, dtype=ember.int64) @ r(3, 2)


def test_matmul_rejects_bool():
    b = ember.ones(2, 2, dtype=ember.bool)
    with pytest.raises(ember.DTypeError, match="matmul: bool"):
        b @ b


def test_matmul_integer_has_no_grad_and_exact_values():
    a = ember.tensor([[1, 2], [3, 4]])
    out = a @ ember.tensor([[5], [6]])
    assert out.dtype is ember.int64 and not out.requires_grad
    assert out.tolist() == [[17], [39]]


def test_matmul_non_tensor_operand_is_converted():
    out = ember.tensor([[1.0, 2.0]]) @ [[3.0], [4.0]]
    assert out.tolist() == [[11.0]]
    rout = np.array([[1.0, 2.0]], dtype=np.float32) @ ember.tensor([[3.0], [4.0]])
    assert isinstance(rout, ember.Tensor) and rout.tolist() == [[11.0]]


def test_mm_needs_matrices():
    with pytest.raises(ember.ShapeError, match=r"mm: expected argument 'input' to be a matrix "
                                               r"\(2-D\), got a 3-D tensor of shape \[2, 3, 4\]"):
        ember.mm(r(2, 3, 4), r(4, 5))
    with pytest.raises(ember.ShapeError, match=r"mm: expected argument 'other'.*1-D"):
        ember.mm(r(2, 3), r(3))
    with pytest.raises(ember.ShapeError, match=r"mm: shapes \[3, 4\] and \[5, 6\]"):
        ember.mm(r(3, 4), r(5, 6))


def test_bmm_batch_mismatch_and_ndim():
    with pytest.raises(ember.ShapeError, match=r"bmm: batch sizes differ.*\[2, 3, 4\].*2.*"
                                               r"\[3, 4, 5\].*3"):
        ember.bmm(r(2, 3, 4), r(3, 4, 5))
    with pytest.raises(ember.ShapeError, match=r"bmm: expected argument 'input' to be a batch"):
        ember.bmm(r(3, 4), r(2, 4, 5))


def test_mv_and_dot_shapes():
    with pytest.raises(ember.ShapeError, match=r"mv: expected argument 'other' to be a vector"):
        ember.mv(r(3, 4), r(4, 1))
    with pytest.raises(ember.ShapeError, match=r"dot: expected argument 'input' to be a vector "
                                               r"\(1-D\), got a 2-D"):
        ember.dot(r(2, 2), r(2, 2))
    with pytest.raises(ember.ShapeError, match=r"dot: .*same number of elements.*\[3\].*\[4\]"):
        ember.dot(r(3), r(4))
    with pytest.raises(ember.DTypeError, match="dot: .*float32 and float64"):
        ember.dot(r(3), r(3, dtype=ember.float64))


def test_outer_inner_errors():
    with pytest.raises(ember.ShapeError, match="outer: expected 1-D argument 'input'.*2-D"):
        ember.outer(r(3, 2), r(2))
    with pytest.raises(ember.ShapeError, match=r"inner: the last dims must match.*\[3, 2\].*"
                                               r"\[3\]"):
        ember.inner(r(3, 2), r(3))
    with pytest.raises(ember.DTypeError, match="inner: .*float32 and float64"):
        ember.inner(r(3), r(3, dtype=ember.float64))


def test_matmul_infer_rules_for_graph_mode():
    f32, f64 = ember.float32, ember.float64
    spec = linalg.MATMUL.infer(TensorSpec((2, 1, 3, 4), f32), TensorSpec((5, 4, 7), f32))
    assert spec == TensorSpec((2, 5, 3, 7), f32)
    assert linalg.MATMUL.infer(TensorSpec((4,), f32), TensorSpec((2, 4, 3), f32)).shape == (2, 3)
    assert linalg.MATMUL.infer(TensorSpec((4,), f32), TensorSpec((4,), f32)).shape == ()
    with pytest.raises(ember.DTypeError):
        linalg.MATMUL.infer(TensorSpec((2, 2), f32), TensorSpec((2, 2), f64))
    with pytest.raises(ember.ShapeError, match="mm: expected"):
        linalg.MM.infer(TensorSpec((2, 2, 2), f32), TensorSpec((2, 2), f32))


def test_matmul_backward_of_3d_at_2d_matches_unfolded_sum():
    # the weight gradient folds the batch into rows; check it against the plain batch sum
    a = r(4, 3, 5, dtype=ember.float64).requires_grad_()
    w = r(5, 2, dtype=ember.float64).requires_grad_()
    g = r(4, 3, 2, dtype=ember.float64)
    (a @ w).backward(g)
    expected = np.einsum("bnk,bnm->km", a.detach().numpy(), g.numpy())
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), g.numpy() @ w.detach().numpy().T, rtol=1e-12)


def test_matmul_skips_unneeded_gradient():
    a = r(3, 4).requires_grad_()
    b = r(4, 2)
    (a @ b).sum().backward()
    assert b.grad is None and a.grad.shape == (3, 4)


def test_matmul_strided_input_takes_contiguous_path():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    strided = base[:, ::2]  # neither last stride is one element
    out = ember.from_numpy(strided) @ ember.ones(3, 2)
    np.testing.assert_array_equal(out.numpy(), strided.sum(1, keepdims=True).repeat(2, 1))


# ------------------------------------------------------------------------ einsum


def test_einsum_wrong_operand_count():
    with pytest.raises(ValueError, match=r"einsum: equation 'ij,jk->ik' has subscripts for 2 "
                                         r"operand\(s\) but 1"):
        ember.einsum("ij,jk->ik", r(2, 3))
    with pytest.raises(ValueError, match="at least one operand"):
        ember.einsum("ij")


def test_einsum_subscripts_do_not_match_ndim():
    with pytest.raises(ember.ShapeError, match=r"operand 0 has 2 dimension\(s\) \(shape "
                                               r"\[3, 4\]\) but its subscripts 'ijk' name 3"):
        ember.einsum("ijk,jk->ik", r(3, 4), r(4, 5))
    with pytest.raises(ember.ShapeError, match="name 3 besides '...'"):
        ember.einsum("...ijk", r(3, 4))


def test_einsum_unknown_or_repeated_output_letter():
    with pytest.raises(ValueError, match="output subscript z does not appear"):
        ember.einsum("ij,jk->iz", r(3, 4), r(4, 5))
    with pytest.raises(ValueError, match="output subscript i appears more than once"):
        ember.einsum("ij,jk->ii", r(3, 4), r(4, 5))


def test_einsum_malformed_syntax():
    with pytest.raises(ValueError, match="invalid subscript '1'"):
        ember.einsum("i1j", r(1, 4, 2))
    with pytest.raises(ValueError, match="'.' .* not part of an ellipsis"):
        ember.einsum("..i", r(3, 2))
    with pytest.raises(ValueError, match="more than one '->'"):
        ember.einsum("i->i->i", r(3))
    with pytest.raises(ValueError, match="more than one ellipsis"):
        ember.einsum("......", r(3, 2))


def test_einsum_size_conflicts():
    with pytest.raises(ember.ShapeError, match="subscript j has size 5 in operand 1.*does not "
                                               "broadcast with the size 4"):
        ember.einsum("ij,jk", r(3, 4), r(5, 2))
    with pytest.raises(ember.ShapeError, match="subscript i is repeated in operand 0.*3 and 4"):
        ember.einsum("ii", r(3, 4))


def test_einsum_dtypes():
    with pytest.raises(ember.DTypeError, match="operand 0 is float32 and operand 1 is float64"):
        ember.einsum("ij,jk", r(2, 2), r(2, 2, dtype=ember.float64))
    b = ember.ones(2, 2, dtype=ember.bool)
    with pytest.raises(ember.DTypeError, match="bool"):
        ember.einsum("ij,jk", b, b)


def test_einsum_canonical_form_names_ellipsis_and_broadcast_dims():
    eq = einsum_mod.canonical_equation("...ij,...jk->...ik", ((2, 1, 3, 4), (5, 4, 2)))
    ins, out = eq.split("->")
    a, b = ins.split(",")
    assert "." not in eq and len(a) == 4 and len(b) == 3 and len(out) == 4
    assert a[1] not in b and a[1] not in out  # the size-1 dim broadcasts: a letter of its own
    assert a[0] == out[0] and b[0] == out[1]


def test_einsum_result_does_not_alias_input():
    x = ember.randn(3, 3)
    t = ember.einsum("ij->ji", x)
    assert not np.may_share_memory(t.numpy(), x.numpy())


def test_einsum_infer_rule():
    f32 = ember.float32
    eq = einsum_mod.canonical_equation("bij,bjk->bik", ((2, 3, 4), (2, 4, 5)))
    spec = einsum_mod.EINSUM.infer(TensorSpec((2, 3, 4), f32), TensorSpec((2, 4, 5), f32),
                                   equation=eq)
    assert spec == TensorSpec((2, 3, 5), f32)
    with pytest.raises(ember.ShapeError):
        einsum_mod.EINSUM.infer(TensorSpec((2, 3, 4), f32), TensorSpec((2, 5, 5), f32),
                                equation=eq)


# ------------------------------------------------------------------------ tensordot


def test_tensordot_errors():
    a, b = r(3, 4, 5), r(4, 5, 6)
    with pytest.raises(ember.ShapeError, match="same length"):
        ember.tensordot(a, b, dims=([1, 2], [0]))
    with pytest.raises(ember.ShapeError, match=r"contracted dimensions need to match, but a "
                                               r"\[3, 4, 5\] has size 3 in dim 0 and b "
                                               r"\[4, 5, 6\] has size 4 in dim 0"):
        ember.tensordot(a, b, dims=([0], [0]))
    with pytest.raises(ember.ShapeError, match="dims=4 is more than"):
        ember.tensordot(a, b, dims=4)
    with pytest.raises(ValueError, match="dims >= 0"):
        ember.tensordot(a, b, dims=-1)
    with pytest.raises(ember.ShapeError, match="dim 1 appears more than once"):
        ember.tensordot(a, b, dims=([1, 1], [0, 0]))
    with pytest.raises(ember.ShapeError, match="out of range"):
        ember.tensordot(a, b, dims=([3], [0]))
    with pytest.raises(TypeError, match="dims must be an int or a pair"):
        ember.tensordot(a, b, dims="ij")
    with pytest.raises(ember.DTypeError, match="float32 and float64"):
        ember.tensordot(a, r(4, 5, dtype=ember.float64))


# ------------------------------------------------------------------------ softmax family


@pytest.mark.parametrize("fn", [ember.softmax, ember.log_softmax])
def test_softmax_requires_dim(fn):
    with pytest.raises(TypeError, match=f"{fn.__name__}: missing required argument 'dim'"):
        fn(r(3))


@pytest.mark.parametrize("fn", [ember.softmax, ember.log_softmax])
def test_softmax_bad_dim_and_dtype(fn):
    with pytest.raises(ember.IndexingError, match="dim 2 is out of range"):
        fn(r(3, 4), 2)
    with pytest.raises(ember.DTypeError, match="expected a floating-point input, got int64"):
        fn(ember.tensor([1, 2]), 0)
    with pytest.raises(ember.DTypeError, match="dtype must be a floating-point dtype"):
        fn(r(3), 0, dtype=ember.int64)


def test_softmax_stable_for_large_inputs():
    x = ember.tensor([1000.0, 0.0, -1000.0])
    np.testing.assert_array_equal(ember.softmax(x, 0).numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(ember.log_softmax(x, 0).numpy(), [0.0, -1000.0, -2000.0])
    y = ember.softmax(ember.tensor([[88.0, 89.0], [-104.0, -103.0]]), 1).numpy()
    e = np.exp(-1.0)
    np.testing.assert_allclose(y, [[e / (1 + e), 1 / (1 + e)]] * 2, rtol=1e-6)


def test_softmax_masked_entries_and_fully_masked_rows():
    inf = float("inf")
    x = ember.tensor([[0.0, -inf, 0.0], [-inf, -inf, -inf]], requires_grad=True)
    p = ember.softmax(x, 1)
    np.testing.assert_array_equal(p.detach().numpy()[0], [0.5, 0.0, 0.5])
    assert np.isnan(p.detach().numpy()[1]).all()  # PyTorch gives nan for an all -inf row
    lp = ember.log_softmax(x, 1).detach().numpy()
    assert lp[0, 1] == -inf and np.isnan(lp[1]).all()
    # softmax's gradient at a masked entry is 0, not nan; log_softmax's is the upstream
    # gradient there (its output is -inf, exp of it is 0)
    row = ember.tensor([0.0, -inf, 1.0], requires_grad=True)
    seed = ember.tensor([1.0, 2.0, 3.0])
    (g,) = ember.autograd.grad(ember.softmax(row, 0), [row], seed)
    assert g.numpy()[1] == 0.0 and np.isfinite(g.numpy()).all()
    (g,) = ember.autograd.grad(ember.log_softmax(row, 0), [row], seed)
    assert g.numpy()[1] == 2.0 and np.isfinite(g.numpy()).all()


def test_softmax_rows_sum_to_one_and_half_precision():
    x = ember.tensor((np.random.default_rng(0).standard_normal((4, 7)) * 8).astype(np.float16))
    p = ember.softmax(x, -1)
    assert p.dtype is ember.float16
    np.testing.assert_allclose(p.numpy().astype(np.float64).sum(-1), 1.0, atol=3e-3)


def test_softmax_saves_only_its_output():
    assert nn.SOFTMAX.save == () and nn.SOFTMAX.save_out
    assert nn.LOG_SOFTMAX.save == () and nn.LOG_SOFTMAX.save_out


def test_softmax_infer_rejects_integers():
    with pytest.raises(ember.DTypeError, match="log_softmax: expected a floating-point"):
        nn.LOG_SOFTMAX.infer(TensorSpec((3,), ember.int64), dim=0)
