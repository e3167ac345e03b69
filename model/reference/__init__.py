"""Reference computations the tests and the benchmarks share (docs/engine.md, "The
reference engines").

- `model.reference.enumeration`: small random networks, random queries and brute-force
  enumeration of the joint (the ground truth of the agreement tests), with random
  triage rules;
- `model.reference.engine`: the first exact engine in numpy, one query at a time
  (Quickscore and the coverage recursion), for networks without twitch switches or
  latents (`switch_free`);
- `model.reference.batched`: the same engine vectorised over many queries, the one
  `infer()` used before the compiled kernels.

None of them is imported by `import model`; they are slow by design and exist to be
compared with the compiled engine.
"""
