"""housecoder.evaluation: scoring completions on tasks.

The task format (one completion per JSON line), the metrics the code-completion papers use, a runner
that sends tasks through the real completion engine under several context settings (housecoder's own,
in-file, the sparse window baseline, a benchmark's provided context), its records, and summaries with
paired comparisons. Training's held-out evaluation and the benchmarks (`housecoder.benchmarks`) both use
it; it imports neither.
"""
