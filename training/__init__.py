"""housecoder.training: the conventions fine-tune (LoRA with peft) on a repository's own code.

Not built yet: see the open training issue. It will build prompts with
`housecoder.prompt.build_fim_prompt`, the function the server uses.
"""
