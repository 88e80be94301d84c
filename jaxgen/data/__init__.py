"""Datasets by name, preprocessing, and the on-device input pipeline.

``load_dataset(config.dataset)`` returns a :class:`Dataset` of host arrays: images as
uint8 NHWC, labels as int32 where the source has them. ``jaxgen.data.pipeline`` puts the
training split on the device and draws batches there.
"""
from jaxgen.data.registry import Dataset, DataError, available_datasets, load_dataset
from jaxgen.data.preprocess import PREPROCESSORS, preprocess

__all__ = ["Dataset", "DataError", "available_datasets", "load_dataset", "PREPROCESSORS",
           "preprocess"]
