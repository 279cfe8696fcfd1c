"""SummaryWriter end to end: event files read back by TensorBoard's EventAccumulator."""

import os

import numpy as np
import pytest

import ember
from ember import nn
from ember.summary import SummaryWriter

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")


def accumulate(log_dir):
    acc = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance={"images": 0, "histograms": 0, "scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_scalars_histograms_images_text_read_back(tmp_path):
    values = np.random.default_rng(0).standard_normal(1000)
    with SummaryWriter(tmp_path) as writer:
        for step in range(5):
            writer.add_scalar("loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("lr", ember.tensor(0.5), global_step=ember.tensor(7), walltime=123.5)
        writer.add_histogram("weights", ember.from_numpy(values), 3)
        writer.add_histogram("small", np.array([1, 1, 2, 5]), 4, bins=4)
        writer.add_image("img", ember.rand(3, 6, 10), 1)
        writer.add_image("hwc", np.zeros((6, 10, 4), np.uint8), 1, dataformats="HWC")
        writer.add_images("batch", ember.rand(3, 1, 4, 5), 2)
        writer.add_text("notes", "hello *world*", 9)
    acc = accumulate(tmp_path)
    scalars = acc.Scalars("loss/train")
    assert [s.step for s in scalars] == [0, 1, 2, 3, 4]
    assert [s.value for s in scalars] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    (lr,) = acc.Scalars("lr")
    assert (lr.step, lr.value, lr.wall_time) == (7, 0.5, 123.5)
    (hist,) = acc.Histograms("weights")
    assert hist.step == 3 and hist.histogram_value.num == 1000
    assert sum(hist.histogram_value.bucket) == 1000
    assert hist.histogram_value.min == pytest.approx(values.min())
    (small,) = acc.Histograms("small")
    assert small.histogram_value.bucket == [0, 2, 1, 0, 1]  # edges 1, 2, 3, 4, 5
    (img,) = acc.Images("img")
    assert (img.width, img.height, img.step) == (10, 6, 1)
    assert acc.Images("hwc")[0].width == 10
    batch = acc.Images("batch")[0]
    assert (batch.width, batch.height) == (15, 4)
    (text,) = acc.Tensors("notes/text_summary")
    assert text.step == 9 and text.tensor_proto.string_val == [b"hello *world*"]
    assert acc.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


def test_add_scalars_writes_sub_runs_like_torch(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("run/loss", {"train": step, "val": 2 * step}, step)
    assert sorted(d for d in os.listdir(tmp_path) if (tmp_path / d).is_dir()) == \
        ["run_loss_train", "run_loss_val"]
    val = accumulate(tmp_path / "run_loss_val").Scalars("run/loss")
    assert [(s.step, s.value) for s in val] == [(0, 0), (1, 2), (2, 4)]


def test_add_hparams_sub_run_is_read_by_the_hparams_plugin(tmp_path):
    from tensorboard.plugins.hparams import api_pb2

    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.1, "batch": 32, "opt": "sgd"}, {"hparam/acc": 0.75},
                           run_name="trial0")
    acc = accumulate(tmp_path / "trial0")
    assert acc.Scalars("hparam/acc")[0].value == 0.75
    # parsed with the hparams plugin's own readers, which check the plugin data version too
    from tensorboard.plugins.hparams import metadata

    content = acc.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    start = metadata.parse_session_start_info_plugin_data(content)
    assert start.hparams["lr"].number_value == 0.1 and start.hparams["opt"].string_value == "sgd"
    assert start.hparams["batch"].number_value == 32
    content = acc.SummaryMetadata("_hparams_/experiment").plugin_data.content
    experiment = metadata.parse_experiment_plugin_data(content)
    assert [h.name for h in experiment.hparam_infos] == ["lr", "batch", "opt"]
    assert [m.name.tag for m in experiment.metric_infos] == ["hparam/acc"]
    content = acc.SummaryMetadata("_hparams_/session_end_info").plugin_data.content
    end = metadata.parse_session_end_info_plugin_data(content)
    assert end.status == api_pb2.STATUS_SUCCESS


def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    import socket

    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as writer:
        log_dir = writer.get_logdir()
    assert os.path.dirname(log_dir) == "runs"
    assert log_dir.endswith(f"_{socket.gethostname()}_lr0.1")
    assert len(os.listdir(log_dir)) == 1


def test_close_then_write_opens_a_new_file(tmp_path):
    writer = SummaryWriter(tmp_path, filename_suffix=".x")
    writer.add_scalar("a", 1, 0)
    writer.close()
    writer.add_scalar("a", 2, 1)
    writer.flush()
    writer.close()
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(f.endswith(".x") for f in files)
    assert [s.value for s in accumulate(tmp_path).Scalars("a")] == [1, 2]


def test_purge_step_hides_orphaned_events(tmp_path, monkeypatch):
    import itertools

    from ember.summary import event_file

    # TensorBoard reads files in name order; fresh numbering keeps ".9" before ".10" apart
    monkeypatch.setattr(event_file, "_uid", itertools.count())
    with SummaryWriter(tmp_path) as writer:
        for step in range(10):
            writer.add_scalar("x", step, step)
    with SummaryWriter(tmp_path, purge_step=5) as writer:  # resumed after a crash at step 9
        for step in range(5, 8):
            writer.add_scalar("x", 100 + step, step)
    scalars = accumulate(tmp_path).Scalars("x")
    assert [(s.step, s.value) for s in scalars] == \
        [(i, i) for i in range(5)] + [(5, 105), (6, 106), (7, 107)]


def test_add_graph_read_back(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, ember.randn(2, 4))
    graph = accumulate(tmp_path).Graph()
    names = [n.name for n in graph.node]
    assert names == ["input/input.0", "Sequential/0", "Sequential/1", "Sequential/2",
                     "output/output.0"]
    assert [list(n.input) for n in graph.node] == [[], ["input/input.0"], ["Sequential/0"],
                                                   ["Sequential/1"], ["Sequential/2"]]


def test_bad_input_errors(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(TypeError, match="add_scalar: tag must be a str"):
            writer.add_scalar(3, 1.0)
        with pytest.raises(ValueError, match="add_scalar: scalar_value must hold a single"):
            writer.add_scalar("x", ember.ones(3))
        with pytest.raises(TypeError, match="global_step must be an int"):
            writer.add_scalar("x", 1.0, global_step=1.5)
        with pytest.raises(TypeError, match="add_scalars: tag_scalar_dict must be a dict"):
            writer.add_scalars("x", [1, 2])
        with pytest.raises(ValueError, match="add_image: img_tensor of shape \\(4, 4\\)"):
            writer.add_image("x", ember.zeros(4, 4))
        with pytest.raises(ValueError, match="add_histogram: values for tag 'h' are empty"):
            writer.add_histogram("h", ember.zeros(0))
        with pytest.raises(ValueError, match="add_histogram_raw: bucket_limits"):
            writer.add_histogram_raw("h", 0, 1, 2, 1, 1, [1, 2], [1])
        with pytest.raises(TypeError, match="add_graph: model must be an ember.nn.Module"):
            writer.add_graph(lambda x: x, ember.ones(1))
        with pytest.raises(ValueError, match="input_to_model is required"):
            writer.add_graph(nn.Linear(2, 2))
    # nothing half-written: only the file_version event is in the file
    acc = accumulate(tmp_path)
    assert acc.Tags()["scalars"] == [] and acc.Tags()["histograms"] == []


def test_add_histogram_raw(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram_raw("r", min=0, max=4, num=6, sum=10, sum_squares=24,
                                 bucket_limits=[1, 2, 4], bucket_counts=[1, 2, 3],
                                 global_step=2)
    (h,) = accumulate(tmp_path).Histograms("r")
    assert h.histogram_value.bucket == [1, 2, 3] and h.histogram_value.bucket_limit == [1, 2, 4]
