"""Datasets by name, preprocessing, and the on-device input pipeline.

``load_dataset(config.dataset)`` returns a :class:`Dataset` of host arrays: images as
uint8 NHWC, labels as int32 where the source has them. ``jaxgen.data.pipeline`` puts the
training split on the device and draws batches there.
"""
from jaxgen.data.dataset import DataError, Dataset
from jaxgen.data.preprocess import PREPROCESSORS, preprocess
from jaxgen.data.registry import available_datasets, load_dataset

__all__ = ["Dataset", "DataError", "available_datasets", "load_dataset", "PREPROCESSORS",
           "preprocess"]
