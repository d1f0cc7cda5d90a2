"""runReport responses over a generated dataset equal sums computed from its
CSV (the checks are in ga4checks.py)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga4checks  # noqa: E402
import simlib  # noqa: E402


class GeneratedDatasetTest(ga4checks.Ga4DataChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        folder = tempfile.mkdtemp(prefix="simulator-generated-")
        cls.DATASET = simlib.generate_dataset(os.path.join(folder, "dataset"))
        super().setUpClass()


if __name__ == "__main__":
    unittest.main()
