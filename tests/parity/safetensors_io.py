"""A minimal safetensors writer and reader (the `safetensors` package is not needed).

Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
header {name: {dtype, shape, data_offsets: [begin, end)}} with an optional "__metadata__" string map,
padded with spaces to a multiple of 8, then the raw little-endian tensor data.
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {torch.float32: ("F32", np.float32), torch.float64: ("F64", np.float64), torch.int64: ("I64", np.int64)}
_NUMPY = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def write(path, tensors, metadata=None):
    """tensors: {name: torch.Tensor} (float32, float64 or int64); metadata: {str: str}."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, tensor in tensors.items():
        dtype, np_type = _DTYPES[tensor.dtype]
        blob = tensor.detach().contiguous().cpu().numpy().astype(np_type).astype(np.dtype(np_type).newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def read(path):
    """Returns ({name: torch.Tensor}, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[start + begin:start + end], dtype=np.dtype(_NUMPY[entry["dtype"]]).newbyteorder("<"))
        tensors[name] = torch.from_numpy(array.astype(_NUMPY[entry["dtype"]]).reshape(entry["shape"]).copy())
    return tensors, metadata
