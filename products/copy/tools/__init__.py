"""Offline tools for the Marketing copy product (run by hand, never imported by the app):
`python -m products.copy.tools.evaluate` measures the copy's defects on our own briefs."""
