"""Recording tests/data/corpus/runs/: real instrumentation libraries against loopback fakes.

- `fakes`: one loopback HTTP server playing the OpenAI, Anthropic and Gemini APIs; it logs
  the ground truth of every call it answers.
- `sink`: a loopback OTLP/HTTP receiver that writes what it got as OTLP/JSON lines.
- `runs`: the runs (library sets, settings) and the virtualenvs they are recorded in.
- `child`: the scenarios, run inside a run's virtualenv (standard library at module level).

`scripts/build_corpus.py --runs` drives them.
"""
