"""add_graph's module-level GraphDef: nodes, scopes and edges through functional ops."""

import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.summary.graph import graph_def

graph_pb2 = pytest.importorskip("tensorboard.compat.proto.graph_pb2")


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x))) + x  # residual: two inputs meet at the add


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2)
        self.aux = nn.Linear(3, 2)

    def forward(self, x, y):
        h = self.block(x)
        h = self.block(h)  # the same module twice
        return self.head(h.flatten(1)) * self.aux(y), h


def test_graph_nodes_scopes_and_edges():
    result = graph_def(Net(), (ember.randn(2, 4), ember.randn(2, 3)))
    graph = graph_pb2.GraphDef.FromString(result.encoded)
    nodes = {n.name: (n.op, list(n.input)) for n in graph.node}
    assert nodes["Net/block/fc1"] == ("Linear", ["input/input.0"])
    assert nodes["Net/block/fc2"] == ("Linear", ["Net/block/fc1"])  # through F.relu
    # second call of the block: fed by the residual sum of fc2 and the block input
    assert nodes["Net/block/fc1_1"][1] == ["Net/block/fc2", "input/input.0"]
    assert nodes["Net/block/fc2_1"][1] == ["Net/block/fc1_1"]
    # head sees fc2_1's output plus the first block's output (itself fc2 + the input)
    assert nodes["Net/head"][1] == ["Net/block/fc2_1", "Net/block/fc2", "input/input.0"]
    assert nodes["Net/aux"][1] == ["input/input.1"]
    assert sorted(nodes["output/output.0"][1]) == ["Net/aux", "Net/head"]
    assert nodes["output/output.0"][0] == "IO Node"
    shapes = {n.name: [[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape]
              for n in graph.node}
    assert shapes["Net/block/fc1"] == [[2, 8]] and shapes["output/output.1"] == [[2, 4]]
    assert graph.versions.producer == 22
    assert "Net/head (Linear)" in result.summary


def test_graph_leaves_model_and_inputs_untouched():
    model = Net()
    x = ember.randn(2, 4)
    graph_def(model, (x, ember.randn(2, 3)))
    assert not x.requires_grad
    assert all(len(m._forward_hooks) == 0 for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
