import sys
from pathlib import Path

# The user-suite's client module sits beside its tests, as in a user's own repository.
sys.path.insert(0, str(Path(__file__).parent))
