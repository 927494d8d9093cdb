"""A BERT sentence encoder written as an ONNX graph straight from its safetensors: no torch.

Serving installs have no torch, yet the default embedder ships as safetensors. Its architecture is
small and fixed (the embeddings, N post-norm encoder layers, pooling), so the graph is built here
node by node with `onnx.helper`, computing what transformers' `BertModel` computes in eager mode
(exact erf GELU, the additive attention mask, LayerNorm with the config's epsilon), followed by the
pooling and the L2 normalisation `housecoder.models.embedder` puts in every exported graph. The
inputs and the output are those of the torch export, so the runtime cannot tell them apart; tests
compare the two on real text.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from housecoder.models.errors import ModelUnavailable

OPSET = 17  # LayerNormalization; ReduceSum takes its axes as an input
_PREFIXES = ("bert.", "model.")


def is_bert(src: Path) -> bool:
    """Whether `src` holds a plain BERT encoder this module can write (absolute positions, safetensors)."""
    try:
        config = json.loads((src / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(config, dict)
        and config.get("model_type") == "bert"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and config.get("hidden_act", "gelu") == "gelu"
        and (src / "model.safetensors").is_file()
    )


def _weights(src: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    loaded = load_file(str(src / "model.safetensors"))
    named: dict[str, np.ndarray] = {}
    for name, value in loaded.items():
        for prefix in _PREFIXES:
            name = name.removeprefix(prefix)
        named[name] = value
    return named


class _Graph:
    """Nodes and initializers under unique names."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(value.copy(order="C"), name))
        return name

    def weight(self, name: str, *, transpose: bool = False) -> str:
        try:
            value = self.weights[name].astype(np.float32)
        except KeyError:
            raise ModelUnavailable(f"not a BERT checkpoint: no tensor {name}") from None
        return self.const(name, value.T if transpose else value)

    def op(self, kind: str, *inputs: str, **attributes: Any) -> str:
        from onnx import helper

        self.count += 1
        output = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, list(inputs), [output], **attributes))
        return output

    def linear(self, x: str, prefix: str) -> str:
        product = self.op("MatMul", x, self.weight(f"{prefix}.weight", transpose=True))
        return self.op("Add", product, self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        return self.op(
            "LayerNormalization",
            x,
            self.weight(f"{prefix}.weight"),
            self.weight(f"{prefix}.bias"),
            axis=-1,
            epsilon=eps,
        )


def _attention(g: _Graph, h: str, prefix: str, mask_bias: str, heads: int, head_dim: int) -> str:
    split = g.const(f"{prefix}.split", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge = g.const(f"{prefix}.merge", np.array([0, 0, heads * head_dim], dtype=np.int64))

    def heads_of(name: str, perm: list[int]) -> str:
        return g.op("Transpose", g.op("Reshape", g.linear(h, f"{prefix}.self.{name}"), split), perm=perm)

    q = heads_of("query", [0, 2, 1, 3])  # B H T D
    k = heads_of("key", [0, 2, 3, 1])  # B H D T
    v = heads_of("value", [0, 2, 1, 3])
    scale = g.const(f"{prefix}.scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias)
    context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
    merged = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
    return g.linear(merged, f"{prefix}.output.dense")


def _gelu(g: _Graph, x: str, name: str) -> str:
    """0.5 x (1 + erf(x / sqrt 2)): transformers' "gelu"."""
    root2 = g.const(f"{name}.sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    one = g.const(f"{name}.one", np.array(1.0, dtype=np.float32))
    half = g.const(f"{name}.half", np.array(0.5, dtype=np.float32))
    return g.op("Mul", g.op("Mul", x, half), g.op("Add", g.op("Erf", g.op("Div", x, root2)), one))


def write_bert_onnx(src: Path, out: Path, pooling: str) -> None:
    """Write the sentence encoder of the BERT directory `src` (mean or CLS `pooling`, L2-normalised) to `out`."""
    import onnx
    from onnx import TensorProto, helper

    config = json.loads((src / "config.json").read_text())
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    g = _Graph(_weights(src))
    ids, mask, types = "input_ids", "attention_mask", "token_type_ids"

    zero, one = (g.const(name, np.array(v, dtype=np.int64)) for name, v in (("i0", 0), ("i1", 1)))
    length = g.op("Gather", g.op("Shape", ids), one, axis=0)
    positions = g.op("Unsqueeze", g.op("Range", zero, length, one), g.const("axes0", np.array([0], np.int64)))
    embedded = g.op(
        "Add",
        g.op(
            "Add",
            g.op("Gather", g.weight("embeddings.word_embeddings.weight"), ids),
            g.op("Gather", g.weight("embeddings.position_embeddings.weight"), positions),
        ),
        g.op("Gather", g.weight("embeddings.token_type_embeddings.weight"), types),
    )
    h = g.layer_norm(embedded, "embeddings.LayerNorm", eps)

    # The additive mask: 0 where attended, the float minimum where padded (as transformers makes it).
    mask_f = g.op("Cast", mask, to=TensorProto.FLOAT)
    inverted = g.op("Sub", g.const("f1", np.array(1.0, dtype=np.float32)), mask_f)
    lowest = g.const("lowest", np.array(np.finfo(np.float32).min, dtype=np.float32))
    mask_bias = g.op(
        "Unsqueeze", g.op("Mul", inverted, lowest), g.const("axes12", np.array([1, 2], np.int64))
    )

    for index in range(int(config["num_hidden_layers"])):
        prefix = f"encoder.layer.{index}"
        attended = _attention(g, h, f"{prefix}.attention", mask_bias, heads, hidden // heads)
        h = g.layer_norm(g.op("Add", attended, h), f"{prefix}.attention.output.LayerNorm", eps)
        inner = _gelu(g, g.linear(h, f"{prefix}.intermediate.dense"), prefix)
        h = g.layer_norm(
            g.op("Add", g.linear(inner, f"{prefix}.output.dense"), h), f"{prefix}.output.LayerNorm", eps
        )

    axis1 = g.const("axes1", np.array([1], np.int64))
    if pooling == "cls":
        pooled = g.op("Gather", h, zero, axis=1)
    else:
        weights = g.op("Unsqueeze", mask_f, g.const("axes-1", np.array([-1], np.int64)))
        total = g.op("ReduceSum", g.op("Mul", h, weights), axis1, keepdims=0)
        count = g.op(
            "Max", g.op("ReduceSum", weights, axis1, keepdims=0), g.const("tiny", np.array(1e-9, np.float32))
        )
        pooled = g.op("Div", total, count)
    norm = g.op("Sqrt", g.op("ReduceSum", g.op("Mul", pooled, pooled), axis1, keepdims=1))
    floor = g.const("eps", np.array(1e-12, dtype=np.float32))
    g.nodes.append(helper.make_node("Div", [pooled, g.op("Max", norm, floor)], ["sentence_embedding"]))

    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes,
        "bert_sentence_encoder",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dims) for name in (ids, mask, types)],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="housecoder"
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
