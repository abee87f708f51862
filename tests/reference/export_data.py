"""Write the real data sets the reference cases use, as the app loads them, for R to read.

Run by make_reference.sh; R then fits exactly the rows that pytest fits.
"""

import sys
from pathlib import Path

from hlmlab.datasets import load_reference

if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name in ("hsb82", "exam", "sleepstudy"):
        # 17 significant digits: R must read back the same doubles pytest fits.
        load_reference(name).to_csv(out / f"{name}.csv", index=False, float_format="%.17g")
