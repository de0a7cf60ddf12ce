"""Seed checks compare like with like: a claims table records what made it; other code or config is refused."""

import json

import pandas as pd

from overfit.report import compare, provenance
from overfit.report.claims import seed_check

CONFIG = {"seed": 0, "training": {"epochs": 20}, "protocols": {"kfold": {"folds": 4}}}


def table(verdicts):
    return pd.DataFrame({"id": ["1a", "1a", "1b"], "protocol": ["holdout", "kfold", None], "verdict": verdicts,
                         "value": 0.0, "low": 0.0, "high": 0.0})


def made_of(config=CONFIG, code=None):
    return {"config": provenance.config_digests(config), "code": code or provenance.code_digests()}


def test_the_seed_is_left_out_of_the_config_digest_and_every_other_section_counts():
    assert provenance.config_digests({**CONFIG, "seed": 1}) == provenance.config_digests(CONFIG)
    other = {**CONFIG, "training": {"epochs": 30}}
    assert provenance.differences(provenance.config_digests(CONFIG), provenance.config_digests(other)) == ["training"]
    code = provenance.code_digests()
    assert "overfit/report/claims.py" in code and "overfit/engine/csr_kernel.cc" in code


def test_a_seed_1_table_of_the_same_code_and_config_goes_beside_else_nothing_and_why():
    mine, theirs = table(["holds", "unclear", "holds"]), table(["holds", "holds", "does not hold"])
    beside, note = seed_check(mine, theirs, made_of(), made_of({**CONFIG, "seed": 1}))
    assert list(beside) == ["holds", "holds", "does not hold"] and note == "2 of 3 verdicts differ"
    edited = dict(provenance.code_digests(), **{"overfit/stats.py": "0" * 12})
    beside, note = seed_check(mine, theirs, made_of(), made_of(code=edited))
    assert list(beside) == ["", "", ""] and note == "not compared: made by other code overfit/stats.py"


def test_compare_refuses_tables_of_other_code_or_config_naming_what_differs(tmp_path, capsys):
    for name, config in (("a", CONFIG), ("b", {**CONFIG, "seed": 1, "protocols": {"kfold": {"folds": 5}}})):
        (tmp_path / name).mkdir()
        table(["holds"] * 3).to_csv(tmp_path / name / "claims.csv", index=False)
        (tmp_path / name / provenance.PROVENANCE).write_text(json.dumps(made_of(config)))
    paths = [str(tmp_path / n / "claims.csv") for n in "ab"]
    assert compare.main(paths) == 2
    assert "config protocols differ" in capsys.readouterr().err
    (tmp_path / "b" / provenance.PROVENANCE).write_text(json.dumps(made_of({**CONFIG, "seed": 1})))
    assert compare.main(paths) == 0
    assert "3 of 3 claim rows have the same verdict" in capsys.readouterr().out
    (tmp_path / "b" / provenance.PROVENANCE).unlink()
    assert compare.main(paths) == 2 and "is missing" in capsys.readouterr().err
