"""The conventions fine-tune: a LoRA adapter trained on the repository's own code (`housecoder train`).

Samples are FIM middles on syntax nodes of the repository's files, prompted by the
same context assembly and prompt builder the server uses (`housecoder.completion`);
whole files are held out for evaluation (newer ones when git history allows).
Training is transformers + peft under accelerate; the adapter is written with its
metadata and metrics and registered for `housecoder serve` when it beat the base model.
"""
