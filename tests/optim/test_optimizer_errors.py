"""Bad input to the optimizers: error class and message."""

from __future__ import annotations

import warnings

import pytest

import ember
import ember.optim as eo
from ember.nn import Parameter


def _params(n: int = 2):
    return [Parameter(ember.ones(3)) for _ in range(n)]


@pytest.mark.parametrize("cls", [eo.SGD, eo.Adam, eo.AdamW, eo.RMSprop, eo.Adagrad])
def test_negative_lr(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: Invalid learning rate: -0.1"):
        cls(_params(), lr=-0.1)


@pytest.mark.parametrize("cls", [eo.Adam, eo.AdamW])
@pytest.mark.parametrize("betas,index", [((1.0, 0.999), 0), ((0.9, -0.1), 1), ((-0.5, 0.9), 0)])
def test_invalid_betas(cls, betas, index):
    with pytest.raises(ValueError, match=f"Invalid beta parameter at index {index}"):
        cls(_params(), betas=betas)


def test_betas_not_a_pair():
    with pytest.raises(ValueError, match=r"Adam: betas must be a pair"):
        eo.Adam(_params(), betas=(0.9,))


@pytest.mark.parametrize("cls,kw,text", [
    (eo.Adam, dict(eps=-1.0), "Invalid epsilon value"),
    (eo.Adam, dict(weight_decay=-1e-2), "Invalid weight_decay value"),
    (eo.SGD, dict(momentum=-0.9), "Invalid momentum value"),
    (eo.RMSprop, dict(alpha=-0.1), "Invalid alpha value"),
    (eo.Adagrad, dict(lr_decay=-1.0), "Invalid lr_decay value"),
    (eo.Adagrad, dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value"),
])
def test_invalid_options(cls, kw, text):
    with pytest.raises(ValueError, match=f"{cls.__name__}: {text}"):
        cls(_params(), **kw)


@pytest.mark.parametrize("kw", [dict(nesterov=True), dict(nesterov=True, momentum=0.9,
                                                          dampening=0.1)])
def test_nesterov_needs_momentum_and_no_dampening(kw):
    with pytest.raises(ValueError, match="SGD: Nesterov momentum requires a momentum and zero "
                                         "dampening"):
        eo.SGD(_params(), lr=0.1, **kw)


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="Adam: optimizer got an empty parameter list"):
        eo.Adam([])
    with pytest.raises(ValueError, match="empty parameter list"):
        eo.SGD(iter(()), lr=0.1)


def test_a_single_tensor_instead_of_an_iterable():
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got "
                                        "ember.Tensor"):
        eo.SGD(Parameter(ember.ones(3)), lr=0.1)


def test_non_tensor_in_params():
    with pytest.raises(TypeError, match=r"SGD: optimizer can only optimize Tensors, but one of "
                                        r"the params \(index 1\) is ndarray"):
        eo.SGD([Parameter(ember.ones(3)), ember.ones(3).numpy()], lr=0.1)


def test_non_leaf_tensor():
    w = Parameter(ember.ones(3))
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        eo.SGD([w * 2], lr=0.1)


def test_set_of_params():
    with pytest.raises(TypeError, match="ordered collections"):
        eo.SGD(set(_params()), lr=0.1)


def test_parameter_in_two_groups():
    p = _params()
    with pytest.raises(ValueError, match="Adam: some parameters appear in more than one "
                                         "parameter group"):
        eo.Adam([{"params": p}, {"params": [p[1]], "lr": 0.1}])
    opt = eo.Adam(p[:1])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": p})


def test_duplicate_parameter_in_a_group_warns():
    p = _params(1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        eo.SGD(p + p, lr=0.1)


def test_add_param_group_not_a_dict():
    opt = eo.SGD(_params(), lr=0.1)
    with pytest.raises(TypeError, match="SGD.add_param_group: param_group must be a dict, but "
                                        "got list"):
        opt.add_param_group(_params())


def test_required_option_missing():
    from ember.optim.optimizer import Optimizer, required

    class Plain(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="Plain: parameter group didn't specify a value of "
                                         "required optimization parameter lr"):
        Plain(_params())


def test_load_state_dict_wrong_number_of_groups():
    p = _params(3)
    saved = eo.Adam([{"params": p[:1]}, {"params": p[1:]}]).state_dict()
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: loaded state dict has a "
                                         r"different number of parameter groups \(2; this "
                                         r"optimizer has 1\)"):
        eo.Adam(p).load_state_dict(saved)


def test_load_state_dict_wrong_group_size():
    p = _params(3)
    saved = eo.Adam([{"params": p[:1]}, {"params": p[1:]}]).state_dict()
    with pytest.raises(ValueError, match=r"doesn't match the size of optimizer's group "
                                         r"\(group 0: 1 saved parameters, 2 here\)"):
        eo.Adam([{"params": p[:2]}, {"params": p[2:]}]).load_state_dict(saved)


def test_load_state_dict_not_a_state_dict():
    with pytest.raises(TypeError, match="SGD.load_state_dict: expected a dict with keys"):
        eo.SGD(_params(), lr=0.1).load_state_dict([1, 2])


def test_no_warning_on_a_normal_step():
    p = _params(1)
    p[0].grad = ember.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eo.Adam(p).step()
