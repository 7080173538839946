"""ClipCart benchmarks: each `bench/NAME.py` runs as `python -m bench.NAME` (see DESIGN.md)."""
