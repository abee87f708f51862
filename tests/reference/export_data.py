"""Write every reference data set (reference_data.REFERENCE_DATA) as CSV for R to read.

Run by make_reference.sh, so R fits exactly the rows that pytest fits.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_data import REFERENCE_DATA  # noqa: E402

if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, load in REFERENCE_DATA.items():
        # 17 significant digits: R must read back the same doubles pytest fits.
        load().to_csv(out / f"{name}.csv", index=False, float_format="%.17g")
