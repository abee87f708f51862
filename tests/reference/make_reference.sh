#!/usr/bin/env bash
# Regenerate the lme4 reference CSVs. Needs R with lme4 (Debian: r-base-core r-cran-lme4).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
export_dir="$(mktemp -d)"
trap 'rm -rf "$export_dir"' EXIT
PYTHONPATH="$repo" python3 "$repo/tests/reference/export_data.py" "$export_dir"
Rscript "$repo/tests/reference/lme4_reference.R" "$export_dir" "$repo"
echo "wrote $repo/tests/reference/lme4_reference.csv and lme4_ranef.csv"
