"""Sum the results of every suite make check ran into one closing line."""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET


def unit_counts(path):
    passed = failed = skipped = 0
    with open(path) as f:
        for line in f:
            result = json.loads(line).get("result")
            if result == "OK" or result == "EXPECTEDFAIL":
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    return passed, failed, skipped


def junit_counts(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    passed = failed = skipped = 0
    for s in suites:
        total = int(s.get("tests", 0))
        f = int(s.get("failures", 0)) + int(s.get("errors", 0))
        sk = int(s.get("skipped", 0))
        passed += total - f - sk
        failed += f
        skipped += sk
    return passed, failed, skipped


def main(out):
    totals = [0, 0, 0]
    for path in sorted(glob.glob(os.path.join(out, "*"))):
        counts = unit_counts(path) if path.endswith(".json") else junit_counts(path)
        name = os.path.splitext(os.path.basename(path))[0]
        print(f"{name}: {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped")
        totals = [a + b for a, b in zip(totals, counts)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
