"""Bad input to the movement ops: the error class, and a message naming the op, the shapes or
dims involved and what was expected."""

from __future__ import annotations

import pytest

import ember
from ember.errors import DTypeError, IndexingError, ShapeError


def x(*shape):
    return ember.zeros(*shape)


@pytest.mark.parametrize("call, error, match", [
    (lambda: x(3, 4).reshape(2, 5), ShapeError, r"reshape: .*shape \[3, 4\] \(12 elements\) "
                                                 r"into shape \[2, 5\]"),
    (lambda: x(3, 4).reshape(-1, -1), ShapeError, r"only one dimension can be inferred"),
    (lambda: x(3, 4).reshape(-2, 6), ShapeError, r"invalid size -2"),
    (lambda: x(3, 4).reshape(5, -1), ShapeError, r"\[3, 4\].*\[5, -1\]"),
    (lambda: x(0, 4).reshape(-1, 0), ShapeError, r"0 elements.*could be anything"),
    (lambda: x(3, 4).reshape(2.0, 6), TypeError, r"reshape: sizes must be ints"),
    (lambda: x(3, 4).reshape(12, size=3), TypeError, r"reshape: unexpected arguments"),
    (lambda: x(3, 4).view(5, 2), ShapeError, r"view: .*\[3, 4\].*\[5, 2\]"),
    (lambda: x(3, 4).flatten(1, 0), ShapeError, r"flatten: start_dim \(1\) cannot come after "
                                                r"end_dim \(0\)"),
    (lambda: x(3, 4).flatten(0, 2), IndexingError, r"flatten: dim 2 is out of range"),
    (lambda: x(2, 6).unflatten(1, (4, 2)), ShapeError, r"unflatten: sizes \[4, 2\] do not "
                                                       r"multiply to the size 6 of dim 1"),
    (lambda: x(2, 6).unflatten(1, ()), ShapeError, r"unflatten: sizes must be non-empty"),
])
def test_reshape_family(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: x(2, 3, 4).permute(0, 1), ShapeError, r"permute: dims \(0, 1\) has 2 entries "
                                                   r"but the tensor has 3"),
    (lambda: x(2, 3, 4).permute(0, 1, 1), ShapeError, r"permute: dims \(0, 1, 1\) name a "
                                                      r"dimension twice"),
    (lambda: x(2, 3, 4).permute(0, 2, -1), ShapeError, r"name a dimension twice"),
    (lambda: x(2, 3, 4).permute(0, 1, 3), IndexingError, r"permute: dim 3 is out of range for "
                                                         r"a tensor of 3 dimension"),
    (lambda: x(2, 3).transpose(0, 2), IndexingError, r"transpose: dim 2 is out of range"),
    (lambda: x(2, 3, 4).t(), ShapeError, r"t: expects a tensor with <= 2 dimensions, got 3"),
    (lambda: x(3).mT, ShapeError, r"mT: expects a tensor with >= 2 dimensions"),
    (lambda: ember.movedim(x(2, 3), (0, 1), 0), ShapeError, r"movedim: source .* same number"),
    (lambda: ember.movedim(x(2, 3), (0, 0), (0, 1)), ShapeError, r"movedim: repeated dim"),
    (lambda: ember.movedim(x(2, 3), 2, 0), IndexingError, r"movedim \(source\): dim 2"),
])
def test_permute_family(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: x(1, 3).squeeze(2), IndexingError, r"squeeze: dim 2 is out of range .* "
                                                r"\[-2, 1\]"),
    (lambda: x(1, 3).squeeze((0, -3)), IndexingError, r"squeeze: dim -3"),
    (lambda: x(2, 3).unsqueeze(3), IndexingError, r"unsqueeze: dim 3 is out of range .* "
                                                  r"\[-3, 2\]"),
    (lambda: x().unsqueeze(-2), IndexingError, r"unsqueeze: dim -2"),
    (lambda: x(3, 4).diagonal(0, 1, -1), ShapeError, r"diagonal: dim1 and dim2 cannot be the "
                                                     r"same dimension"),
    (lambda: x(3).diagonal(), ShapeError, r"diagonal: expects a tensor with at least 2 dim"),
    (lambda: x(2, 2, 2).diag(), ShapeError, r"diag: expects a 1-D or 2-D tensor, got "
                                            r"\[2, 2, 2\]"),
    (lambda: x(3).tril(), ShapeError, r"tril: expects a tensor with at least 2 dimensions"),
    (lambda: x(3).triu(1), ShapeError, r"triu: expects"),
    (lambda: x(3, 3).view(ember.float64), DTypeError, r"view: cannot view float32\[3, 3\] "
                                                      r"as float64"),
    (lambda: x().view(ember.int16), DTypeError, r"view: a 0-d tensor of float32 cannot be "
                                                r"viewed as int16"),
])
def test_squeeze_diagonal_triangles(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.cat([x(3, 4), x(3, 5)]), ShapeError,
     r"cat: sizes of tensors must match except in dimension 0: expected size 4 but got size 5 "
     r"in dimension 1 for tensor 1 \(shape \[3, 5\]"),
    (lambda: ember.cat([x(2, 3), x(2, 3), x(1, 3)], dim=1), ShapeError,
     r"dimension 1: expected size 2 but got size 1 in dimension 0 for tensor 2"),
    (lambda: ember.cat([x(2, 3), x(2, 3, 1)]), ShapeError,
     r"cat: tensors must have the same number of dimensions.*tensor 1 has shape \[2, 3, 1\]"),
    (lambda: ember.cat([x(), x()]), ShapeError, r"cat: zero-dimensional tensor \(at position 0\)"),
    (lambda: ember.cat([x(2), x(2)], dim=1), IndexingError, r"cat: dim 1 is out of range"),
    (lambda: ember.cat([]), ValueError, r"cat: expected a non-empty sequence"),
    (lambda: ember.cat([x(2), 3.0]), TypeError, r"cat: element 1 of the sequence is float"),
    (lambda: ember.cat(x(2, 3)), TypeError, r"cat: expected a sequence of Tensors, got Tensor"),
    (lambda: ember.stack([x(3, 4), x(3, 5)]), ShapeError,
     r"stack: expects each tensor to be the same size, but got \[3, 4\] at entry 0 and \[3, 5\] "
     r"at entry 1"),
    (lambda: ember.stack([x(3), x(3)], dim=2), IndexingError, r"stack: dim 2 is out of range"),
])
def test_cat_stack(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: x(4, 5).narrow(1, 3, 3), IndexingError, r"narrow: start \(3\) \+ length \(3\) "
                                                     r"exceeds the size 5 of dim 1"),
    (lambda: x(4, 5).narrow(0, -5, 1), IndexingError, r"narrow: start -5 is out of range"),
    (lambda: x().narrow(0, 0, 1), ShapeError, r"narrow: cannot narrow a 0-d tensor"),
    (lambda: x(3, 4).select(1, 4), IndexingError, r"select: index 4 is out of range for dim 1 "
                                                  r"of size 4"),
    (lambda: x(5).split([2, 2]), ShapeError, r"split: split sizes \[2, 2\] must be "
                                             r"non-negative and sum to the size 5"),
    (lambda: x(5).split(0), ValueError, r"split: split_size must be positive"),
    (lambda: x(5).chunk(0), ValueError, r"chunk: chunks must be greater than 0, got 0"),
    (lambda: x(5).tensor_split(0), ValueError, r"tensor_split: number of sections must be "
                                               r"greater than 0"),
    (lambda: x().unbind(), IndexingError, r"unbind: cannot unbind a 0-d tensor"),
    (lambda: x(2, 3).unbind(2), IndexingError, r"unbind: dim 2 is out of range"),
])
def test_narrow_split(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: x(2, 3).flip(0, 0), ShapeError, r"flip: dims \(0, 0\) name a dimension twice"),
    (lambda: x(2, 3).flip(2), IndexingError, r"flip: dim 2 is out of range"),
    (lambda: x(3).fliplr(), ShapeError, r"fliplr: expects a tensor with at least 2 dim"),
    (lambda: x(2, 3).roll((1, 2), 0), ShapeError, r"roll: shifts \(1, 2\) and dims \(0,\) must "
                                                  r"have the same length"),
    (lambda: x(2, 3).roll((1, 2)), ShapeError, r"roll: with dims=None, shifts must be a single"),
    (lambda: x(2, 3).repeat(2), ShapeError, r"repeat: the number of repeat sizes \(1\) cannot "
                                            r"be smaller than the number of dimensions"),
    (lambda: x(2, 3).repeat(2, -1), ShapeError, r"repeat: repeat sizes must be non-negative"),
    (lambda: x(2, 3).repeat_interleave([1, 2], dim=1), ShapeError,
     r"repeat_interleave: repeats has 2 entries but dim 1 .* has size 3"),
    (lambda: x(2, 3).repeat_interleave(-1), ValueError, r"repeats must be non-negative"),
    (lambda: x(2, 3).repeat_interleave(ember.ones(3), dim=1), ShapeError,
     r"repeats must be an int or a 0-d/1-D integer tensor, got float32\[3\]"),
])
def test_copying_ops(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.pad(x(3, 4), (1, 2, 3)), ValueError, r"pad: the pad sequence must have an "
                                                        r"even length.*got 3 values"),
    (lambda: ember.pad(x(3), (1, 1, 1, 1)), ShapeError, r"pad: 4 values pad 2 dims but the "
                                                        r"input \[3\] has only 1"),
    (lambda: ember.pad(x(1, 3), (3, 3), mode="reflect"), ShapeError,
     r"pad: reflect padding \(3, 3\) must be smaller than the size 3 of dim 1"),
    (lambda: ember.pad(x(1, 3), (0, 4), mode="circular"), ShapeError,
     r"pad: circular padding \(0, 4\) must be at most the size 3"),
    (lambda: ember.pad(x(1, 0), (1, 0), mode="replicate"), ShapeError,
     r"cannot replicate-pad dim 1 of size 0"),
    (lambda: ember.pad(x(1, 3), (-1, 0), mode="reflect"), ShapeError,
     r"negative padding \(-1, 0\) at dim 1 is only supported in 'constant' mode"),
    (lambda: ember.pad(x(1, 3), (-2, -2)), ShapeError, r"pad: dim 1 of size 3 with padding "
                                                       r"\(-2, -2\) would have a negative size"),
    (lambda: ember.pad(x(1, 3), (1, 1), mode="mirror"), ValueError, r"pad: mode must be one of"),
    (lambda: ember.pad(x(1, 3), (1, 1), mode="reflect", value=2.0), ValueError,
     r"pad: mode 'reflect' does not take a value"),
    (lambda: ember.pad(x(1, 3), (1.5, 1)), TypeError, r"pad: pad must be a sequence of ints"),
])
def test_pad(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_errors_of_infer_rules_in_graph_mode():
    """The infer rules (what graph mode calls at trace time) reject what forward rejects."""
    from ember.ops.movement_join import CAT
    from ember.ops.movement_view import PERMUTE, RESHAPE
    from ember.spec import TensorSpec

    f32 = ember.float32
    with pytest.raises(ShapeError, match=r"reshape: .*\[3, 4\].*\[5, 5\]"):
        RESHAPE.infer(TensorSpec((3, 4), f32), shape=(5, 5))
    with pytest.raises(ShapeError, match=r"permute: .*name a dimension twice"):
        PERMUTE.infer(TensorSpec((3, 4), f32), dims=(1, 1))
    with pytest.raises(ShapeError, match=r"cat: .*tensor 1"):
        CAT.infer(TensorSpec((3, 4), f32), TensorSpec((2, 5), f32), dim=0)
