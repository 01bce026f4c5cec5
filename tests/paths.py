"""Where the tests find the project's files, wherever a test module sits in the tree."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
DEMO_CSV = ROOT / "forecasts" / "demo" / "forecasts.csv"
PRICE_DATA = ROOT / "marketdata" / "data"
