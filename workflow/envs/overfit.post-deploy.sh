#!/usr/bin/env bash
# Installs the overfit project into the conda environment Snakemake just made
# from overfit.yaml (Snakemake runs this file, with that environment active,
# when it creates the environment: `--software-deployment-method conda`).
#
# Where the project is: OVERFIT_SOURCE if set, else the folder Snakemake runs
# in, which is the workflow's root when you run the README's commands there.
# Editable (`pip install -e`): the jobs import the code of that folder, the
# code their `code` inputs name, so editing it reruns the jobs with the new code
# and not with a copy made when the environment was created. The dependencies
# are overfit.yaml's (--no-deps: nothing else is installed or upgraded).
set -euo pipefail
source="${OVERFIT_SOURCE:-$PWD}"
if ! grep -qs '^name = "overfit"$' "$source/pyproject.toml"; then
    echo "overfit.post-deploy.sh: $source is not the overfit project (no pyproject.toml naming it):" \
         "run snakemake from the workflow's root, or set OVERFIT_SOURCE to it" >&2
    exit 1
fi
python -m pip install --quiet --no-deps --editable "$source"
# fail now, not in the first job, if the environment cannot import the project and its dependencies
(cd / && python -c "import overfit, jax, flax, optax, pandas, pyarrow, matplotlib, sklearn, yaml, jsonschema; print('overfit', overfit.__file__)")
