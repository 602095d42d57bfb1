#!/usr/bin/env python3
"""Turn a hyperfine JSON export into a Markdown table of medians and ratios.

usage: summarize.py RESULTS.json BASELINE_NAME
Each row: the command's name, its median, the ratio to the baseline's
median and the difference from it. Medians, not means: a start-up benchmark has a long tail (page
cache, scheduler) that says nothing about the code under test.
"""
import json
import os
import platform
import statistics
import sys

path, baseline_name = sys.argv[1], sys.argv[2]
results = json.load(open(path))["results"]
medians = {r["command"]: statistics.median(r["times"]) for r in results}
baseline = medians[baseline_name]

print(f"| command | median | ratio to {baseline_name} | difference |")
print("|---|---:|---:|---:|")
for name, median in medians.items():
    print(f"| {name} | {median * 1000:.2f} ms | {median / baseline:.2f}x | {(median - baseline) * 1000:+.2f} ms |")
runs = min(len(r["times"]) for r in results)
print()
print(f"{runs} runs each; Linux {platform.release()}, {platform.machine()}, {os.cpu_count()} CPUs.")
