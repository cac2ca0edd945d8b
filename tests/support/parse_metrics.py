"""Reads an OpenMetrics scrape on stdin with the official Prometheus Python client's parser
(prometheus_client.openmetrics.parser, strict: it rejects anything not in the format) and
prints every sample as one JSON line: {"name", "labels", "value"}."""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        print(json.dumps({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type}))
