"""python -m shared.store --migrate | --cleanup [--days N] | --stats"""
from __future__ import annotations

import argparse
import json

from shared import store
from shared.store import database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--migrate", action="store_true", help="create or upgrade the schema")
    parser.add_argument("--cleanup", action="store_true", help="remove stored content older than the retention")
    parser.add_argument("--days", type=float, help="retention in days (default AIPM_RETENTION_DAYS)")
    args = parser.parse_args()
    url = store.writer().url
    print(f"database: {database.safe_url(url)}")
    if args.migrate or not args.cleanup:
        database.migrate(store.engine())
        print("schema: up to date")
    if args.cleanup:
        print(json.dumps(store.cleanup(args.days)))


if __name__ == "__main__":
    main()
