# overfit: the experiments of chapter 4 of Deep Learning with Python, re-run and measured.
# This file only declares; the rules live in workflow/rules, the logic in src/overfit.
import os

from snakemake.utils import min_version, validate

from overfit import chapter as chapter_declaration
from overfit.checks import check_config
from overfit.report.claims import STATISTICS, STUDY_STATISTICS

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")
check_config(config)
# The chapter's claims and the book's numbers (roles, never experiment names).
CHAPTER = chapter_declaration.load(f"{workflow.basedir}/config/chapter.yaml")
validate(CHAPTER, "workflow/schemas/chapter.schema.yaml")
chapter_declaration.check_chapter(CHAPTER, set(STATISTICS), set(STUDY_STATISTICS))


report: "workflow/report/workflow.rst"


# The image every job runs in under `--software-deployment-method apptainer` (built from workflow/envs/overfit.def;
# docs/cluster.md); plain runs ignore it.
container: os.environ.get("OVERFIT_CONTAINER", f"{workflow.basedir}/overfit.sif")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/recipe.smk"
include: "workflow/rules/images.smk"
include: "workflow/rules/pretraining.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/explorer.smk"


rule all:
    input:
        all_targets(),
    default_target: True
    localrule: True
