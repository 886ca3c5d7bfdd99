"""Offline image tools, never imported by the running app: random-weight diffusers pipelines for tests and
benchmarks (tiny). The emoji model's training and evaluation tools are in products/image/emoji/tools/."""
