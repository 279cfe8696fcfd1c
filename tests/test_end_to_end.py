"""ember.models against their PyTorch twins (tests/models/torch_twins.py) with identical weights.

- W1 (MLP) and W2 (MNIST CNN) at the workload shapes, W1 at its batch of 128, W2 at a batch of
  16 instead of 64 (to keep the default run fast on 2 shared cores): 20 steps of
  SGD (lr 0.01, momentum 0.9) on cross-entropy, from torch's initial weights, on the same
  seeded synthetic batches; the loss must agree at every step within 1e-4 relative.
- Every model (W3, W4, W5, ResNet-20 and the rest): forward output and the gradients of every
  parameter after one backward, on a small batch.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import models, nn, optim

from .models.torch_twins import copy_torch_into_ember, to_numpy, torch, twin

STEPS = 20


def _batches(seed: int, batch: int, shape: tuple, classes: int = 10):
    """Gaussian inputs labelled by a fixed random linear teacher, so there is something to
    learn and the loss falls within 20 steps."""
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal((int(np.prod(shape)), classes))
    for _ in range(STEPS):
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        y = (x.reshape(batch, -1) @ teacher).argmax(axis=1)
        yield x, y


@pytest.mark.parametrize("name, batch, shape", [
    ("mlp", 128, (784,)),          # W1
    ("lenet", 16, (1, 28, 28)),    # W2 (batch 64 in the workload; 16 keeps this test fast)
])
def test_training_losses_match_torch_for_20_steps(name, batch, shape):
    torch.manual_seed(0)
    reference = twin(name)
    model = models.get_model(name)
    copy_torch_into_ember(reference, model)
    initial = {k: to_numpy(v).copy() for k, v in reference.state_dict().items()}
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.01, momentum=0.9)
    loss_fn, ref_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    losses, ref_losses = [], []
    for x, y in _batches(1, batch, shape):
        opt.zero_grad()
        loss = loss_fn(model(ember.from_numpy(x)), ember.from_numpy(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())

        ref_opt.zero_grad()
        ref_loss = ref_loss_fn(reference(torch.from_numpy(x)), torch.from_numpy(y))
        ref_loss.backward()
        ref_opt.step()
        ref_losses.append(ref_loss.item())
    # float32 in both; summation orders differ (BLAS, im2col vs oneDNN), so the runs drift by
    # rounding only: 1e-4 relative at every step.
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4)
    # The weights after 20 steps agree too, and every tensor moved (the comparison is not
    # vacuous). A pre-activation within rounding of a ReLU kink can flip one element's
    # gradient between the two; momentum carries that on, so a few weights differ by up to
    # ~5e-5 (weights are ~0.05): atol 2e-4.
    for key, value in reference.state_dict().items():
        np.testing.assert_allclose(to_numpy(model.state_dict()[key]), to_numpy(value),
                                   rtol=1e-3, atol=2e-4, err_msg=key)
        assert np.abs(to_numpy(value) - initial[key]).max() > 1e-4, key


def _images(batch, channels, size):
    return np.random.default_rng(2).standard_normal((batch, channels, size, size)) \
        .astype(np.float32)


def _tokens(batch, length, vocab):
    return np.random.default_rng(3).integers(0, vocab, (batch, length))


# (name, constructor kwargs, input, targets shape): small batches, workload feature sizes
CASES = [
    ("mlp", {}, np.random.default_rng(4).standard_normal((4, 784)).astype(np.float32)),
    ("lenet", {}, _images(4, 1, 28)),
    ("digits_cnn", {}, _images(4, 1, 8)),
    ("cifar_cnn", {}, _images(2, 3, 32)),                  # W3
    ("lstm_lm", {}, _tokens(2, 16, 256)),                  # W4
    ("transformer", {}, _tokens(2, 64, 1000)),             # W5, the longest allowed sequence
    ("resnet20", {}, _images(4, 3, 32)),
]


@pytest.mark.parametrize("name, kwargs, data", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradients_match_torch(name, kwargs, data):
    torch.manual_seed(1)
    reference = twin(name, **kwargs)
    model = models.get_model(name, **kwargs)
    copy_torch_into_ember(reference, model)

    out = model(ember.from_numpy(data))
    ref_out = reference(torch.from_numpy(data))
    assert tuple(out.shape) == tuple(ref_out.shape)
    np.testing.assert_allclose(to_numpy(out), to_numpy(ref_out), rtol=1e-4, atol=1e-5)

    # backward of a fixed random projection of the output, so every logit gets its own weight
    g = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(np.float32)
    (out * ember.from_numpy(g)).sum().backward()
    (ref_out * torch.from_numpy(g)).sum().backward()
    grads = dict(model.named_parameters())
    for key, ref_param in reference.named_parameters():
        assert grads[key].grad is not None, key
        ref_grad = ref_param.grad.numpy()
        # float32 sums of many terms in different orders: compare relative to the largest
        # element of the gradient, 1e-4 of it
        scale = max(float(np.abs(ref_grad).max()), 1e-6)
        np.testing.assert_allclose(to_numpy(grads[key].grad), ref_grad, rtol=1e-3,
                                   atol=1e-4 * scale, err_msg=key)


def test_resnet20_batchnorm_running_stats_and_eval_match_torch():
    torch.manual_seed(2)
    reference, model = twin("resnet20"), models.resnet20()
    copy_torch_into_ember(reference, model)
    x = _images(8, 3, 16)
    for _ in range(2):  # two training-mode passes update the running statistics
        model(ember.from_numpy(x))
        reference(torch.from_numpy(x))
    ref_state = reference.state_dict()
    for key, value in model.state_dict().items():
        if "running" in key or "num_batches" in key:
            np.testing.assert_allclose(to_numpy(value), to_numpy(ref_state[key]), rtol=1e-4,
                                       atol=1e-6, err_msg=key)
    model.eval()
    reference.eval()
    np.testing.assert_allclose(to_numpy(model(ember.from_numpy(x))),
                               to_numpy(reference(torch.from_numpy(x))), rtol=1e-4, atol=1e-5)
