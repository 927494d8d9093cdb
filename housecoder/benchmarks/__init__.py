"""housecoder.benchmarks: what `housecoder bench` adds on top of `housecoder.evaluation`.

Published benchmarks as tasks (HumanEval-FIM, CrossCodeEval), RepoEval-style tasks cut from any
repository, context recall without a model, and typing sessions replayed in real time for latency.
"""
