"""``python -m alnburden.simulate OUT_DIR --n 583 --seed 2026``."""

import sys

from alnburden.simulate import main

if __name__ == "__main__":
    sys.exit(main())
