"""The generated world: one generator for the demo (with images and clips) and, larger and
with media off, for the benchmarks."""

from clipcart.demo.world.building import build_world
from clipcart.demo.world.sizes import DEMO_WORLD, WorldReport, WorldSize, bench_world

__all__ = ["DEMO_WORLD", "WorldReport", "WorldSize", "bench_world", "build_world"]
