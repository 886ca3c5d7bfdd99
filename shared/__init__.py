"""The project's shared package: configuration, device policy, embedded artifacts and the model registry.

OpenMP busy-waiting makes torch and CTranslate2 10-40x slower on a busy shared CPU, and the
policy is read once, when the OpenMP runtime starts: so it is set here, before anything can
import torch.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
