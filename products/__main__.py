"""The shared layer's command-line tools, run with the products registered (shared/ never imports them):

    python -m products config [--readme]     # every setting, shared and per product (README's table)
    python -m products catalog [--verify]    # every embedded artifact; --verify hashes each file
"""
import sys

import products  # noqa: F401  (registers the products' descriptors)
from shared import catalog, config

TOOLS = {"config": config.main, "catalog": catalog.main}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TOOLS:
        print(__doc__.strip())
        raise SystemExit(2)
    raise SystemExit(TOOLS[sys.argv[1]](sys.argv[2:]))
