"""Summary values: the same messages torch.utils.tensorboard writes, field for field.

Both sides are parsed with TensorBoard's own protobuf classes and compared; torch is only a
reference here.
"""

import io
import struct
import zlib

import numpy as np
import pytest

import ember
from ember.summary import summaries
from ember.summary.png import encode_png

summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")
torch = pytest.importorskip("torch")
torch_summary = pytest.importorskip("torch.utils.tensorboard.summary")


def parse(value_bytes):
    return summary_pb2.Summary.Value.FromString(value_bytes)


def torch_value(summary):
    assert len(summary.value) == 1
    return summary.value[0]


def decode_png(data):
    """A test-side PNG decoder for what encode_png writes (8-bit, no interlace, filter 0)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + body)
        chunks.setdefault(kind, b"")
        chunks[kind] += body
        pos += 12 + n
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, channels)


@pytest.mark.parametrize("value", [0.0, 1.5, -3, np.float64(2.25), ember.tensor(4.0),
                                   ember.tensor([7.5])])
def test_scalar_matches_torch(value):
    ours = parse(summaries.scalar("loss", value))
    ref_input = value.numpy() if isinstance(value, ember.Tensor) else value
    ref = torch_value(torch_summary.scalar("loss", ref_input))
    assert ours == ref
    assert ours.WhichOneof("value") == "simple_value"  # written even when 0.0


@pytest.mark.parametrize("double", [False, True])
def test_new_style_scalar_matches_torch(double):
    ours = parse(summaries.scalar("acc", 0.125, new_style=True, double_precision=double))
    ref = torch_value(torch_summary.scalar("acc", 0.125, new_style=True,
                                           double_precision=double))
    assert ours == ref


def test_scalar_errors():
    with pytest.raises(ValueError, match="single number.*shape \\(2,\\)"):
        summaries.scalar("x", ember.ones(2))
    with pytest.raises(TypeError, match="scalar_value must be a tensor, array or number"):
        summaries.scalar("x", "1.0")


@pytest.fixture(scope="module")
def torch_default_bins(tmp_path_factory):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path_factory.mktemp("torch_run")))
    writer.close()
    return writer.default_bins


@pytest.mark.parametrize("bins", ["tensorflow", 10, "auto", [-1.0, 0.0, 0.5, 3.0]])
def test_histogram_matches_torch(bins, torch_default_bins):
    values = np.random.default_rng(0).standard_normal(500).astype(np.float32)
    ours = parse(summaries.histogram("h", ember.from_numpy(values), bins)).histo
    ref_bins = torch_default_bins if bins == "tensorflow" else bins
    ref = torch_value(torch_summary.histogram("h", values, ref_bins)).histo
    for field in ("min", "max", "num", "sum"):
        assert getattr(ours, field) == pytest.approx(getattr(ref, field), rel=1e-6), field
    # torch sums squares in float32; ours in float64
    assert ours.sum_squares == pytest.approx(ref.sum_squares, rel=1e-5)
    np.testing.assert_allclose(ours.bucket_limit, ref.bucket_limit, rtol=1e-12)
    assert list(ours.bucket) == list(ref.bucket)
    inside = 500 if not isinstance(bins, list) else ((values >= -1) & (values <= 3)).sum()
    assert sum(ours.bucket) == inside


def test_histogram_max_bins_merges_neighbours():
    values = np.random.default_rng(4).standard_normal(300)
    counts, edges = np.histogram(values, bins=30)
    h = parse(summaries.histogram("h", values, bins=30, max_bins=7)).histo
    merged = counts.reshape(6, 5).sum(axis=1)  # ceil(30 / 7) = 5 buckets per group
    nonzero = np.flatnonzero(merged)
    assert list(h.bucket) == [0] + list(merged[nonzero[0]:nonzero[-1] + 1])
    np.testing.assert_allclose(h.bucket_limit, edges[::5][nonzero[0]:nonzero[-1] + 2])


def test_histogram_buckets_trim_and_errors():
    h = parse(summaries.histogram("h", np.array([2.0, 2.0, 3.0, 9.0]), bins=4)).histo
    # edges 2, 3.75, 5.5, 7.25, 9: counts 3, 0, 0, 1; one empty bucket kept on the left
    assert list(h.bucket) == [0, 3, 0, 0, 1]
    assert list(h.bucket_limit) == [2.0, 3.75, 5.5, 7.25, 9.0]
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (2, 9, 4, 16, 98)
    with pytest.raises(ValueError, match="values for tag 'h' are empty"):
        summaries.histogram("h", np.zeros(0))
    with pytest.raises(ValueError, match="cannot bin the values of tag 'h'"):
        summaries.histogram("h", np.array([np.nan, 1.0]), bins=3)
    with pytest.raises(ValueError, match="fall inside the bins"):
        summaries.histogram("h", np.array([5.0]), bins=[0.0, 1.0])
    with pytest.raises(TypeError, match="bins must be"):
        summaries.histogram("h", np.ones(3), bins=1.5)


def test_tensorflow_bins():
    bins = summaries.tensorflow_bins()
    assert bins.size == 1549 and bins[774] == 0 and bins[775] == 1e-12
    assert np.all(np.diff(bins) > 0) and bins[-1] < 1e20 <= bins[-1] * 1.1


@pytest.mark.parametrize("shape, fmt", [((3, 5, 7), "CHW"), ((5, 7, 3), "HWC"),
                                        ((4, 5, 7), "CHW"), ((6, 4), "HW"),
                                        ((1, 5, 7), "CHW")])
def test_image_matches_torch_pixels(shape, fmt):
    data = np.random.default_rng(1).random(shape, dtype=np.float32)
    data[(0,) * len(shape)] = 1.7  # out of range: clipped to 255
    ours = parse(summaries.image("img", ember.from_numpy(data), fmt)).image
    ref = torch_value(torch_summary.image("img", data, dataformats=fmt)).image
    assert (ours.height, ours.width) == (ref.height, ref.width)
    pixels = decode_png(ours.encoded_image_string)
    from PIL import Image

    ref_pixels = np.asarray(Image.open(io.BytesIO(ref.encoded_image_string)))
    if ref_pixels.ndim == 2:
        ref_pixels = ref_pixels[:, :, None]
    # torch tiles one-channel images to RGB; ember keeps them greyscale (a third the size)
    assert pixels.shape[2] == ours.colorspace
    np.testing.assert_array_equal(pixels, ref_pixels[:, :, :pixels.shape[2]])


def test_image_uint8_and_batches():
    batch = np.random.default_rng(2).integers(0, 256, (10, 3, 4, 6), dtype=np.uint8)
    img = parse(summaries.image("b", batch, "NCHW", owner="add_images")).image
    pixels = decode_png(img.encoded_image_string)
    assert pixels.shape == (2 * 4, 8 * 6, 3)  # eight per row, two rows
    np.testing.assert_array_equal(pixels[4:8, 6:12], batch[9].transpose(1, 2, 0))
    assert (pixels[4:, 12:] == 0).all()  # unused grid cells are black
    ref = torch_value(torch_summary.image("b", batch, dataformats="NCHW")).image
    from PIL import Image

    np.testing.assert_array_equal(pixels, np.asarray(Image.open(io.BytesIO(
        ref.encoded_image_string))))
    nhwc = parse(summaries.image("b", batch.transpose(0, 2, 3, 1), "NHWC")).image
    assert nhwc.encoded_image_string == img.encoded_image_string


def test_image_errors():
    with pytest.raises(ValueError, match="has 2 dims, but dataformats 'CHW' names 3"):
        summaries.image("i", np.zeros((4, 4)), "CHW")
    with pytest.raises(ValueError, match="1, 3 or 4 channels, got 5"):
        summaries.image("i", np.zeros((5, 4, 4)), "CHW")
    with pytest.raises(ValueError, match="dataformats must be"):
        summaries.image("i", np.zeros((3, 4, 4)), "CCW")
    with pytest.raises(TypeError, match="img_tensor"):
        summaries.image("i", "picture")


def test_png_encoder_round_trip_all_channel_counts():
    from PIL import Image

    rng = np.random.default_rng(3)
    for channels in (1, 2, 3, 4):
        img = rng.integers(0, 256, (9, 13, channels), dtype=np.uint8)
        data = encode_png(img)
        np.testing.assert_array_equal(decode_png(data), img)
        decoded = np.asarray(Image.open(io.BytesIO(data)))
        np.testing.assert_array_equal(decoded.reshape(img.shape), img)
    with pytest.raises(ValueError, match="at least one pixel"):
        encode_png(np.zeros((0, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        encode_png(np.zeros((2, 3)))


def test_text_matches_torch():
    ours = parse(summaries.text("notes", "**bold** ünïcode"))
    ref = torch_value(torch_summary.text("notes", "**bold** ünïcode"))
    assert ours == ref
    with pytest.raises(TypeError, match="text_string must be a str"):
        summaries.text("notes", 3)


def test_hparams_match_torch():
    hparams = {"lr": 0.01, "layers": 3, "opt": "adam", "skip": None, "wd": ember.tensor(0.5)}
    metrics = {"hparam/accuracy": 0.9, "hparam/loss": 0.1}
    domains = {"opt": ["adam", "sgd"]}
    ours = [parse(v) for v in summaries.hparams(hparams, metrics, domains)]
    torch_hparams = dict(hparams, wd=torch.tensor([0.5]))
    refs = torch_summary.hparams(torch_hparams, metrics, domains)
    for mine, ref in zip(ours, refs):
        ref = torch_value(ref)
        assert mine.tag == ref.tag
        from tensorboard.plugins.hparams import plugin_data_pb2

        a = plugin_data_pb2.HParamsPluginData.FromString(mine.metadata.plugin_data.content)
        b = plugin_data_pb2.HParamsPluginData.FromString(ref.metadata.plugin_data.content)
        assert a == b
        assert mine.metadata.plugin_data.plugin_name == "hparams"


def test_hparams_bool_and_errors():
    from tensorboard.plugins.hparams import plugin_data_pb2

    exp, start, _ = (parse(v) for v in summaries.hparams({"bn": True}, {"m": 1}))
    start = plugin_data_pb2.HParamsPluginData.FromString(start.metadata.plugin_data.content)
    assert start.session_start_info.hparams["bn"].bool_value is True
    with pytest.raises(ValueError, match=r"hparam_dict\['f'\] should be an int"):
        summaries.hparams({"f": [1, 2]}, {})
    with pytest.raises(TypeError, match="must be dicts"):
        summaries.hparams([("lr", 1)], {})
    with pytest.raises(ValueError, match="hparam_domain_discrete"):
        summaries.hparams({"a": 1}, {}, {"b": [1]})
