import numpy as np
import pytest

# Three tiers (README, "Tests"):
#   python -m pytest            the quick suite: every behaviour, the short checks
#   python -m pytest --full     adds the long statistical and agreement checks (CI runs this)
#   python -m pytest --runslow  adds the long sweeps too (the 300-case pgmpy sweep, ...)


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", help="also run the long statistical and agreement checks (what CI runs)")
    parser.addoption("--runslow", action="store_true", help="also run the long agreement sweeps (implies --full)")


def pytest_collection_modifyitems(config, items):
    runslow = config.getoption("--runslow")
    full = runslow or config.getoption("--full")
    skip_full = pytest.mark.skip(reason="long check: run with --full")
    skip_slow = pytest.mark.skip(reason="long sweep: run with --runslow")
    for item in items:
        if "slow" in item.keywords and not runslow:
            item.add_marker(skip_slow)
        elif "full" in item.keywords and not full:
            item.add_marker(skip_full)


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)
