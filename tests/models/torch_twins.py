"""PyTorch twins of ember.models, module for module, so ``state_dict`` keys match by name.

Test reference only. ``twin(name)`` builds the torch model; ``copy_torch_into_ember`` loads its
initial weights into the ember model, so both start from identical parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
tnn = torch.nn
# The reference runs beside ember's NumPy/OpenBLAS threads on 2 shared cores; one torch thread
# keeps the two thread pools from oversubscribing the machine (this changes no result).
torch.set_num_threads(1)


class MLP(tnn.Module):
    def __init__(self, in_features=784, hidden=(512, 512), num_classes=10):
        super().__init__()
        sizes = (in_features, *hidden, num_classes)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(tnn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(tnn.ReLU())
        self.flatten = tnn.Flatten()
        self.layers = tnn.Sequential(*layers)

    def forward(self, x):
        return self.layers(self.flatten(x))


class LeNet(tnn.Module):
    def __init__(self, in_channels=1, num_classes=10, image_size=28):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(in_channels, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2))
        self.classifier = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(64 * (image_size // 4) ** 2, 128), tnn.ReLU(),
            tnn.Linear(128, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class DigitsCNN(tnn.Module):
    def __init__(self, in_channels=1, num_classes=10, image_size=8):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(in_channels, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU())
        self.classifier = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(32 * (image_size // 2) ** 2, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class CifarCNN(tnn.Module):
    def __init__(self, in_channels=3, num_classes=10, image_size=32):
        super().__init__()
        c = [in_channels, 64, 64, 128, 128]
        conv = [m for i in range(4) for m in (tnn.Conv2d(c[i], c[i + 1], 3, padding=1),
                                              tnn.ReLU())]
        self.features = tnn.Sequential(*conv[:4], tnn.MaxPool2d(2), *conv[4:], tnn.MaxPool2d(2))
        self.classifier = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(128 * (image_size // 4) ** 2, 256), tnn.ReLU(),
            tnn.Linear(256, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class LSTMLanguageModel(tnn.Module):
    def __init__(self, vocab_size=256, embedding_dim=128, hidden_size=256, num_layers=1):
        super().__init__()
        self.embedding = tnn.Embedding(vocab_size, embedding_dim)
        self.lstm = tnn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True)
        self.head = tnn.Linear(hidden_size, vocab_size)

    def forward(self, tokens):
        return self.head(self.lstm(self.embedding(tokens))[0])


class TransformerTagger(tnn.Module):
    def __init__(self, vocab_size=1000, num_classes=1000, d_model=128, nhead=4,
                 dim_feedforward=512, num_layers=2, max_len=64, dropout=0.0):
        super().__init__()
        self.embedding = tnn.Embedding(vocab_size, d_model)
        self.position = tnn.Embedding(max_len, d_model)
        layer = tnn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=dropout,
                                            activation="gelu", batch_first=True)
        self.encoder = tnn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = tnn.Linear(d_model, num_classes)

    def forward(self, tokens):
        x = self.embedding(tokens) + self.position.weight[:tokens.shape[1]]
        return self.head(self.encoder(x))


class BasicBlock(tnn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(cout)
        self.conv2 = tnn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(cout)
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        short = x[:, :, ::self.stride, ::self.stride]
        if self.extra:  # option A: zero-pad the channels
            short = tnn.functional.pad(short, (0, 0, 0, 0, self.extra // 2,
                                               self.extra - self.extra // 2))
        return torch.relu(out + short)


class ResNet20(tnn.Module):
    def __init__(self, num_classes=10, in_channels=3):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        cin = 16
        for stage, cout in enumerate((16, 32, 64)):
            blocks = []
            for i in range(3):
                blocks.append(BasicBlock(cin, cout, 2 if stage and not i else 1))
                cin = cout
            setattr(self, f"layer{stage + 1}", tnn.Sequential(*blocks))
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean(dim=(2, 3)))


TWINS = {"mlp": MLP, "lenet": LeNet, "digits_cnn": DigitsCNN, "cifar_cnn": CifarCNN,
         "lstm_lm": LSTMLanguageModel, "transformer": TransformerTagger, "resnet20": ResNet20}


def twin(name: str, **kwargs):
    """The PyTorch model that mirrors ``ember.models.get_model(name, **kwargs)``."""
    return TWINS[name](**kwargs)


def copy_torch_into_ember(torch_model, ember_model) -> None:
    """Load every torch parameter and buffer into the ember model by name (strict)."""
    state = {k: ember.from_numpy(v.detach().numpy().copy())
             for k, v in torch_model.state_dict().items()}
    ember_model.load_state_dict(state, strict=True)


def to_numpy(t) -> np.ndarray:
    """An ember or torch tensor as a NumPy array."""
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.detach().numpy()
