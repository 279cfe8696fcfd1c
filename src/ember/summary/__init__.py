"""TensorBoard logging (``ember.summary``), without TensorFlow, TensorBoard or protobuf.

- ``writer.py``: ``SummaryWriter`` (torch.utils.tensorboard's API: add_scalar, add_scalars,
  add_histogram, add_image(s), add_text, add_hparams, add_graph, flush, close)
- ``summaries.py``: values -> ``Summary.Value`` messages (histogram binning, image layout,
  the hparams plugin); ``png.py``: the PNG encoder for images
- ``graph.py``: a module-level ``GraphDef`` of a model, for ``add_graph``
- ``event_file.py``: the event file (TFRecord framing, CRC-32C) and its buffered writer
- ``proto.py``: the protocol-buffer wire encoding of the messages above

See docs/tensorboard.md.
"""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
