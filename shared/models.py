"""The process's one model registry, with the models several products share.

Products import `registry` and register their own specs in their `models.py`; registering loads
nothing.
"""
from shared.encoder import ENCODER_SPEC
from shared.registry import ModelRegistry

registry = ModelRegistry()
registry.register(ENCODER_SPEC)
