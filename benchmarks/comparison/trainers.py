"""One trainer per framework with the same small interface, for the CNN and the LSTM task.

``build(framework, task, seed, data, threads=2, keras_jit="auto")`` returns a trainer with

- ``train(batches) -> list[float]``: one optimizer step per index array (indices into
  ``data["x_train"]``), in order; returns the loss of the first step of the call and the mean
  loss of the call (``[first, mean]``), the two numbers every framework can report the same way;
- ``logits(x) -> np.ndarray``: forward-only logits of a NumPy input (NCHW images or token ids).

``framework`` is ``"ember"`` or ``"torch"`` (the same ``define_model``/``make_optimizer`` code of
``benchmarks/frameworks/torch.py``, W2's and W4's models and optimizers) or ``"keras"``
(``keras.Sequential`` layers trained with ``model.fit``, batches in the given order
via ``shuffle=False``). All start from ``benchmarks.workloads.spec.init_weights`` of the seed.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FRAMEWORKS", "TASKS", "WORKLOAD", "build", "set_threads"]

FRAMEWORKS = ("ember", "torch", "keras")
TASKS = ("cnn", "lstm")
WORKLOAD = {"cnn": "W2", "lstm": "W4"}


def set_threads(framework: str, threads: int) -> dict:
    """Fix the framework's own thread pools (intra-op ``threads``, inter-op 1); returns them.

    NumPy's BLAS (ember's only pool) is fixed by the ``*_NUM_THREADS`` variables the parent
    sets before the process starts; PyTorch and TensorFlow are set here, before any work.
    """
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}
    if framework == "keras":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    return {"blas": threads}


class _EagerTrainer:
    """ember or PyTorch: the reference model and optimizer, a plain training loop."""

    def __init__(self, lib, task: str, seed: int, data: dict) -> None:
        from ..frameworks.torch import define_model, make_optimizer
        from ..workloads.spec import init_weights

        workload = WORKLOAD[task]
        lib.manual_seed(seed)
        self.lib, self.data = lib, data
        self.model = define_model(lib, workload)
        self.model.load_state_dict({k: lib.from_numpy(np.array(v))
                                    for k, v in init_weights(workload, seed).items()})
        self.optimizer = make_optimizer(lib, workload, self.model.parameters())
        self._ce = lib.nn.functional.cross_entropy

    def train(self, batches) -> list[float]:
        """One step per index array; returns ``[first step's loss, mean loss]``."""
        lib, x, y = self.lib, self.data["x_train"], self.data["y_train"]
        losses = []
        for idx in batches:
            self.optimizer.zero_grad()
            logits = self.model(lib.from_numpy(x[idx]))
            loss = self._ce(logits.reshape(-1, logits.shape[-1]),
                            lib.from_numpy(y[idx]).reshape(-1))
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.item()))
        return [losses[0], float(np.mean(losses))]

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits."""
        with self.lib.no_grad():
            return self.model(self.lib.from_numpy(np.ascontiguousarray(x))).numpy()


class _KerasTrainer:
    """Keras 3 on TensorFlow: the same layers, ``model.fit`` with W2's/W4's optimizer."""

    def __init__(self, task: str, seed: int, data: dict, jit: str) -> None:
        import keras

        from ..frameworks.tensorflow_impl import to_tf_layout
        from ..workloads.spec import WORKLOADS, init_weights

        keras.utils.set_random_seed(seed)
        workload = WORKLOAD[task]
        self.keras, self.task = keras, task
        w = to_tf_layout(workload, init_weights(workload, seed))
        hp = WORKLOADS[workload].hyperparameters
        L = keras.layers
        if task == "cnn":
            self.model = keras.Sequential([
                keras.Input((28, 28, 1)),
                L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10)])
            self.model.set_weights([w["conv1.weight"], w["conv1.bias"], w["conv2.weight"],
                                    w["conv2.bias"], w["fc1.weight"], w["fc1.bias"],
                                    w["fc2.weight"], w["fc2.bias"]])
            # NHWC once, outside the timed loop (TensorFlow's native CPU layout).
            self.x_train = np.ascontiguousarray(data["x_train"].transpose(0, 2, 3, 1))
            optimizer = keras.optimizers.SGD(learning_rate=hp["lr"], momentum=hp["momentum"])
        else:
            self.model = keras.Sequential([
                keras.Input((None,), dtype="int32"), L.Embedding(256, 128),
                L.LSTM(256, return_sequences=True), L.Dense(256)])
            # Keras has one LSTM bias where PyTorch has two: the sum is the same function.
            self.model.set_weights([w["embedding.weight"], w["lstm.weight_ih_l0"],
                                    w["lstm.weight_hh_l0"],
                                    w["lstm.bias_ih_l0"] + w["lstm.bias_hh_l0"],
                                    w["head.weight"], w["head.bias"]])
            self.x_train = data["x_train"].astype(np.int32)
            optimizer = keras.optimizers.Adam(learning_rate=hp["lr"], beta_1=hp["betas"][0],
                                              beta_2=hp["betas"][1], epsilon=hp["eps"])
        self.y_train = data["y_train"].astype(np.int32)
        self.batch = WORKLOADS[workload].batch
        jit_compile = {"auto": "auto", "on": True, "off": False}[jit]
        self.model.compile(optimizer=optimizer, jit_compile=jit_compile,
                           loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        self.jit_compile = bool(getattr(self.model, "jit_compile", False))

    def train(self, batches) -> list[float]:
        """``model.fit`` over the batches in order (``shuffle=False``); ``[first, mean]``."""
        batches = list(batches)
        if any(len(b) != self.batch for b in batches[:-1]):
            raise ValueError("keras trainer: only the last batch of a call may be short")
        idx = np.concatenate(batches)
        first = []

        class _First(self.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):  # noqa: D102 - Keras hook
                if batch == 0:
                    first.append(float(logs["loss"]))

        history = self.model.fit(self.x_train[idx], self.y_train[idx], batch_size=self.batch,
                                 epochs=1, shuffle=False, verbose=0, callbacks=[_First()])
        return [first[0], float(history.history["loss"][-1])]

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits (NCHW images are transposed to NHWC here)."""
        if self.task == "cnn":
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        else:
            x = x.astype(np.int32)
        return np.asarray(self.model(x, training=False))


def build(framework: str, task: str, seed: int, data: dict, keras_jit: str = "auto"):
    """A trainer for ``framework`` (``FRAMEWORKS``) on ``task`` (``TASKS``), seeded weights."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    if keras_jit not in ("auto", "on", "off"):
        raise ValueError(f"keras_jit must be 'auto', 'on' or 'off', got {keras_jit!r}")
    if framework == "keras":
        return _KerasTrainer(task, seed, data, keras_jit)
    if framework == "torch":
        import torch as lib
    else:
        import ember as lib
    return _EagerTrainer(lib, task, seed, data)
