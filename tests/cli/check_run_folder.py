#!/usr/bin/env python3
"""Every file of a run folder reads whole (issue 17's crash trials).

check_run_folder.py RUN: JSON parses, metrics.csv's rows are complete and
numbered 1..n, checkpoints are complete zip archives (LibTorch's format). A
dead writer's hidden temporary is allowed here: the next run in the folder
removes it, which the caller checks. Exit 1 naming the file otherwise.
"""
import csv
import json
import os
import sys
import zipfile


def check(run):
    for name in sorted(os.listdir(run)):
        path = os.path.join(run, name)
        if name.startswith(".revup-write-"):
            continue
        if name.endswith(".json"):
            json.load(open(path))
        elif name == "metrics.csv":
            rows = list(csv.reader(open(path)))
            assert rows, "empty"
            for r in rows[1:]:
                assert len(r) == len(rows[0]), f"short row {r}"
            epochs = [int(r[0]) for r in rows[1:]]
            assert epochs == list(range(1, len(epochs) + 1)), f"epochs {epochs}"
        elif name.endswith(".pt"):
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
                assert bad is None, f"member {bad} is corrupt"
        elif name == "logs" and os.path.isdir(path):
            # a data-parallel run's other ranks (issue 18): rank-N.log only
            for log in os.listdir(path):
                assert log.startswith("rank-") and log.endswith(".log"), f"logs/{log}"
        elif not name.endswith(".log"):
            raise AssertionError("a file a run does not write")


if __name__ == "__main__":
    try:
        check(sys.argv[1])
    except Exception as e:  # any failure to read is the finding
        print(f"FAIL: {sys.argv[1]}: {e!r}")
        sys.exit(1)
