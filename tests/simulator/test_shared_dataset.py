"""runReport responses over the dataset named by STATSDASH_DATASET equal sums
computed from its CSV. Exits 77 (skipped) when the variable is unset, and
fails when it names a folder that cannot be read."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga4checks  # noqa: E402

SKIPPED = 77


class SharedDatasetTest(ga4checks.Ga4DataChecks, unittest.TestCase):
    DATASET = os.environ.get("STATSDASH_DATASET", "")


if __name__ == "__main__":
    if not SharedDatasetTest.DATASET:
        print("STATSDASH_DATASET is not set; skipping the shared dataset checks")
        sys.exit(SKIPPED)
    facts = os.path.join(SharedDatasetTest.DATASET, "ga4-facts.csv")
    if not os.access(facts, os.R_OK):
        print("STATSDASH_DATASET=%s: cannot read %s" % (SharedDatasetTest.DATASET, facts))
        sys.exit(1)
    unittest.main()
