"""Shoppable video: upload, probing, transcoding, storage, Range serving and product tags."""
