"""The documentation: README.md as a front door, the MkDocs site under docs/, and what keeps them true.

The configuration reference and the claims page are generated at build time by docs/hooks/generate.py (an MkDocs
hook); these tests call its functions directly and check them against the schema and the YAML files read here on
their own. Numbers quoted from a measurement must sit in a block marked with the commit they were recorded in.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "hooks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _generator()


def _pages() -> list[Path]:
    return [README] + sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)


def _load(path: str):
    return yaml.safe_load((REPO / path).read_text(encoding="utf-8"))


# --- (a) measured numbers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_measured_number_is_marked_with_its_commit(page):
    found = gen.unmarked_measurements(page.read_text(encoding="utf-8"))
    assert not found, (f"{page.relative_to(REPO)}: numbers that look measured outside a "
                       f"<!-- measured: COMMIT on MACHINE --> block (line, number): {found}")


def test_an_unmarked_measured_number_is_found():
    text = "\n".join([
        "# Speed",
        "",
        "The run took 19 min 36 s, 1.8× faster; 476 passed; 362 GFLOP/s; 0.88 GiB; 14.5% less.",
        "",
        "A 95% interval, at 5%, on a 10%-positive draw, the last 20% of the images: settings, not measurements.",
        "`--cores 2` and code are not read:",
        "",
        "```",
        "took 3 s",
        "```",
    ])
    assert [n for _, n in gen.unmarked_measurements(text)] == [
        "19 min", "36 s", "1.8×", "476 passed", "362 GFLOP/s", "0.88 GiB", "14.5%"]


def test_a_marker_covers_its_block_up_to_the_next_heading_or_its_end():
    text = "\n".join([
        "## Cost",
        "<!-- measured: 4148a86 on a 2-core AMD EPYC -->",
        "",
        "It took 49 min 29 s.",
        "",
        "| part | time |",
        "| --- | --- |",
        "| data | 10 s |",
        "",
        "### Next",
        "This took 3 s.",
        "<!-- measured: 4148a86 on a 2-core AMD EPYC -->",
        "Covered: 2.5×.",
        "<!-- /measured -->",
        "Not covered: 7%.",
        "<!-- a comment that is no marker: 9 s -->",
    ])
    assert gen.unmarked_measurements(text) == [(11, "3 s"), (15, "7%")]


def test_markers_name_commits_of_this_repository():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("no git repository to look the commits up in")
    commits = {c for page in _pages() for c in gen.measured_commits(page.read_text(encoding="utf-8"))}
    assert commits, "no page marks a measurement"
    for commit in sorted(commits):
        found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
                               capture_output=True)
        assert found.returncode == 0, f"measured: {commit} is not a commit of this repository"


# --- (b) the configuration reference ---------------------------------------------------------------------------------

def _schema_keys(node, out: set[str]) -> set[str]:
    """Every property name anywhere in a JSON schema (read here on its own, not through the generator)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            _schema_keys(value, out)
    elif isinstance(node, list):
        for value in node:
            _schema_keys(value, out)
    return out


def test_the_configuration_reference_names_every_key_of_the_schema():
    schema = _load("workflow/schemas/config.schema.yaml")
    page = gen.configuration_reference(schema, _load("config/config.yaml"))
    paths = set(re.findall(r"^\| `([^`]+)` \|", page, re.M)) | set(re.findall(r"^## `([^`]+)`$", page, re.M))
    components = {part.removesuffix("[]") for path in paths for part in path.split(".")}
    missing = sorted(_schema_keys(schema, set()) - components)
    assert not missing, f"keys of the config schema the reference does not name: {missing}"
    for top in schema["properties"]:
        assert f"## `{top}`" in page


def test_the_configuration_reference_shows_the_values_of_config_yaml():
    page = gen.configuration_reference(_load("workflow/schemas/config.schema.yaml"), _load("config/config.yaml"))
    config = _load("config/config.yaml")
    rows = dict(re.findall(r"^\| `([^`]+)` \|[^|]*\|[^|]*\| ([^|]*) \|", page, re.M))
    assert rows["training.batch_size"] == f"`{config['training']['batch_size']}`"
    assert rows["training.learning_rate"] == f"`{gen.written(config['training']['learning_rate'])}`"
    assert rows["images.validation_split"] == f"`{gen.written(config['images']['validation_split'])}`"
    for name in config["experiments"]:
        assert f"`{name}`" in page


def test_a_key_added_to_the_schema_appears_in_the_reference():
    schema = _load("workflow/schemas/config.schema.yaml")
    schema["properties"]["training"]["properties"]["warmup_epochs"] = {"type": "integer", "minimum": 0,
                                                                       "description": "epochs at a lower rate"}
    page = gen.configuration_reference(schema, _load("config/config.yaml"))
    assert re.search(r"^\| `training\.warmup_epochs` \| integer, ≥ 0 \|.*epochs at a lower rate \|$", page, re.M)


# --- (c) the claims page ---------------------------------------------------------------------------------------------

def _numbers(value) -> list[str]:
    """How a threshold's numbers may be written: as Python prints them or as plain decimals."""
    values = value if isinstance(value, list) else [value]
    return [{repr(v), format(Decimal(repr(v)), "f")} for v in values]


def _claim_block(page: str, row_id: str) -> str:
    match = re.search(rf"^### {re.escape(row_id)} \{{ #claim-{re.escape(row_id)} \}}$(.*?)(?=^##)", page + "\n##",
                      re.M | re.S)
    assert match, f"the claims page has no block for row {row_id}"
    return match.group(1)


def test_the_claims_page_lists_every_row_with_the_threshold_the_yaml_has():
    chapter = _load("config/chapter.yaml")
    page = gen.claims_page(chapter)
    for row in chapter["claims"]:
        block = _claim_block(page, row["id"])
        assert row["sentence"] in block
        (side, value), = row["claimed"].items()
        holds = re.search(r"^- \*\*Holds if\*\* the whole interval is (.*)$", block, re.M).group(1)
        assert holds.startswith(side), (row["id"], holds)
        for forms in _numbers(value):
            assert any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", holds) for f in forms), (row["id"], holds, value)
        for entry in row["history"]:
            assert entry["change"] in block and entry["date"] in block
        section_heading = page.rfind("\n## ", 0, page.index(f"### {row['id']} "))
        heading = page[section_heading:].splitlines()[1]
        assert re.search(rf"\b{re.escape(str(row['section']).split()[-1])}$", heading), (row["id"], heading)
        assert ("2nd edition" in heading) == str(row["section"]).startswith("2nd ed."), (row["id"], heading)


def test_the_claims_page_follows_a_changed_threshold():
    chapter = _load("config/chapter.yaml")
    chapter["claims"][0]["claimed"] = {"within": [1.25, 6.75]}
    block = _claim_block(gen.claims_page(chapter), chapter["claims"][0]["id"])
    assert "within [1.25, 6.75]" in block


def test_the_claims_page_groups_rows_by_section_in_the_files_order():
    chapter = _load("config/chapter.yaml")
    page = gen.claims_page(chapter)
    headings = re.findall(r"^## (.+)$", page, re.M)
    first_seen = list(dict.fromkeys(str(r["section"]) for r in chapter["claims"]))
    assert headings == [gen.section_title(s) for s in first_seen]


def test_the_pages_keep_their_generation_markers():
    assert "<!-- generated: configuration -->" in (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert "<!-- generated: claims -->" in (DOCS / "claims.md").read_text(encoding="utf-8")


# --- (d) the site builds ---------------------------------------------------------------------------------------------

def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="mkdocs-material is not installed (pip install -e '.[docs]')")
    site = tmp_path / "site"
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                         cwd=REPO, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                                      **__import__("os").environ})
    assert run.returncode == 0, run.stdout + run.stderr
    claims = (site / "claims" / "index.html").read_text(encoding="utf-8")
    for row in _load("config/chapter.yaml")["claims"]:
        assert f'id="claim-{row["id"]}"' in claims
    assert "training.batch_size" in (site / "configuration" / "index.html").read_text(encoding="utf-8")


# --- (e) the README --------------------------------------------------------------------------------------------------

def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def test_the_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250


def test_the_quick_start_has_exactly_the_two_commands():
    quick = _section(README.read_text(encoding="utf-8"), "Quick start")
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", quick, re.M | re.S)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()
                if line.split("#")[0].strip()]
    assert commands == ["make reproduce", "make test"]


def test_the_readme_explains_every_dependency_of_pyproject():
    text = README.read_text(encoding="utf-8")
    dependencies = _section(text, "Dependencies")
    project = __import__("tomllib").loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[=<>!~\[ ]", d)[0] for d in project["dependencies"]]
    for extra, packages in project["optional-dependencies"].items():
        names += [re.split(r"[=<>!~\[ ]", d)[0] for d in packages]
        assert f"`{extra}` extra" in dependencies, f"the README's Dependencies do not name the {extra} extra"
    rows = re.findall(r"^\| ([^|]+) \|", dependencies, re.M)
    listed = {name.strip() for row in rows for name in re.split(r",| \(", row)}
    assert not [n for n in names if n not in listed], "dependencies of pyproject.toml the README does not explain"


def test_the_readme_links_only_to_pages_that_exist():
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((docs/[^)#]+\.md)", text):
        assert (REPO / target).is_file(), target


def test_the_claims_page_describes_every_field_of_a_claim_row():
    schema = _load("workflow/schemas/chapter.schema.yaml")
    page = gen.claim_fields(schema, (REPO / "config" / "chapter.yaml").read_text(encoding="utf-8"))
    named = {part.removesuffix("[]") for path in re.findall(r"^\| `([^`]+)` \|", page, re.M) for part in path.split(".")}
    missing = sorted(_schema_keys(schema["properties"]["claims"]["items"], set()) - named)
    assert not missing, f"fields of a claim row the claims page does not name: {missing}"
    assert re.search(r"^\| `claimed` \|.*\| yes \|", page, re.M)
    assert re.search(r"^\| `requires` \| string \|\s+\| a guard", page, re.M)
