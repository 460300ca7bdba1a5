"""Head-to-head backend benchmark: which backend should answer each activity.

Replays a labelled test set (``testset/*.jsonl``) per activity against the drill engine, the
local model and Claude, scores every answer (exact checks for spelling and math, deterministic
rubric checks for the rest), measures time to first token and total time, and recommends a
routing table under a latency budget. Safety is never benchmarked or recommended: it is fixed to
Claude in code.

Modules: ``testset`` (loading), ``scoring`` (per-answer checks), ``runner`` (replaying cases),
``stats`` (per backend and activity), ``recommend``, ``report`` (table, JSON, plot), ``judge``
(the optional LLM judge), ``service`` (the Home Assistant action) and ``__main__`` (the CLI
behind scripts/bench-backends). Only ``service`` imports Home Assistant.
"""
