"""``History``: the record ``fit`` returns, one entry per epoch for every logged value."""

from __future__ import annotations

from .callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Records each epoch's logs; ``fit`` adds one and returns it (also ``model.history``).

    ``history.history`` maps each log key (``loss``, metrics, ``val_loss``, ...,
    ``learning_rate`` when a learning-rate callback runs) to a list with one float per epoch;
    ``history.epoch`` lists the epoch numbers (0-based, starting at ``initial_epoch``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def set_model(self, model) -> None:
        super().set_model(model)
        if model is not None:
            # write through __dict__: on a Model (an nn.Module) plain assignment is fine too,
            # but this keeps History out of Module registration in every case
            model.__dict__["history"] = self

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
