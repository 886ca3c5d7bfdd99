"""Compositions of products: flows a customer can watch, each step one product's plain functions on
the shared registry. A workflow imports products; products never import a workflow or each other.
Each package declares a `PRODUCT` descriptor like a product's (shared/descriptor.py), so it gets a
tab, rated actions, usage and Insights the same way; app.py lists them after the products."""

WORKFLOWS = [
    "workflows.customer_call",
]
