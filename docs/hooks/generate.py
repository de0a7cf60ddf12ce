"""The documentation's generated parts, and the check on its measured numbers.

An MkDocs hook (``hooks:`` in mkdocs.yml). At build time it replaces a marker
line in a page with text generated from the repository's own files, so that
what the site says about the configuration and the claims cannot drift from
them:

- ``<!-- generated: configuration -->`` (docs/configuration.md): every key of
  workflow/schemas/config.schema.yaml, with its type, what it allows, its
  description and its value in config/config.yaml;
- ``<!-- generated: claims -->`` (docs/claims.md): every row of
  config/chapter.yaml, grouped by the book's section: id, sentence, statistic
  and design, the threshold that makes it hold, how that reads the words,
  guards, not-testable reasons, noise floors and the row's history.

It also checks each page's source for numbers quoted from a measurement
(times, ratios such as 1.8×, percentages, speeds, sizes, counts of tests)
outside a block marked with the commit they were recorded in::

    <!-- measured: 4148a86 on a 2-core AMD EPYC (AVX-512) -->

A marker covers what follows it up to the next heading (of any level) or up to
``<!-- /measured -->``. Fenced code blocks, inline code and HTML comments are
not read. An unmarked number is a warning, which ``mkdocs build --strict``
turns into a failed build; tests/test_docs.py runs the same check on
README.md and every page.

The functions below take and return plain data (no MkDocs import), so the
tests call them directly.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "config.yaml"
CONFIG_SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CHAPTER = ROOT / "config" / "chapter.yaml"
CHAPTER_SCHEMA = ROOT / "workflow" / "schemas" / "chapter.schema.yaml"

GENERATED = re.compile(r"^<!-- generated: ([a-z_-]+) -->$", re.M)
log = logging.getLogger("mkdocs.hooks.generate")


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def written(value) -> str:
    """A YAML value as the file writes it: numbers never in exponent form (0.001, not 1e-03), lists in flow style."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(written(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {written(v)}" for k, v in value.items()) + "}"
    return str(value)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


# --- the configuration reference -------------------------------------------------------------------------------------

def _resolve(node: dict, schema: dict) -> dict:
    """A schema node with its $ref followed and the properties of its oneOf/anyOf/allOf branches merged in."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"].split("/")[-1]
        rest = {k: v for k, v in node.items() if k != "$ref"}
        node = {**schema["definitions"][ref], **rest}
    if not isinstance(node, dict):
        return {}
    merged = dict(node)
    for combinator in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(combinator, []):
            branch = _resolve(branch, schema)
            if "properties" in branch:
                merged["properties"] = {**branch["properties"], **merged.get("properties", {})}
            for key in ("additionalProperties", "required", "type", "patternProperties"):
                if key == "required" and combinator != "allOf":
                    continue  # a key one branch requires is not required by the node
                if key in branch and key not in merged:
                    merged[key] = branch[key]
    return merged


def _kind(node: dict, schema: dict) -> str:
    """What a key allows, in a few words: its type, enum, bounds, pattern."""
    node = _resolve(node, schema)
    parts = []
    if "enum" in node:
        parts.append("one of " + ", ".join(f"`{written(v)}`" for v in node["enum"]))
    if "const" in node:
        parts.append(f"`{written(node['const'])}`")
    kinds = [node["type"]] if isinstance(node.get("type"), str) else list(node.get("type", []))
    branches = [_resolve(b, schema) for b in node.get("oneOf", [])]
    for b in branches:
        if "const" in b:
            kinds.append(f"`{written(b['const'])}`")
        elif isinstance(b.get("type"), str):
            kinds.append(b["type"] + (f" of {_resolve(b['items'], schema).get('type', 'items')}" if "items" in b else ""))
    if node.get("type") == "array" and "items" in node:
        item = _resolve(node["items"], schema)
        kinds = [f"list of {item.get('type', 'items')}" + ("s" if isinstance(item.get("type"), str) else "")]
    parts.insert(0, " or ".join(dict.fromkeys(kinds)))
    bounds = [f"≥ {written(node['minimum'])}" if "minimum" in node else "",
              f"> {written(node['exclusiveMinimum'])}" if "exclusiveMinimum" in node else "",
              f"≤ {written(node['maximum'])}" if "maximum" in node else "",
              f"< {written(node['exclusiveMaximum'])}" if "exclusiveMaximum" in node else "",
              f"at least {node['minItems']} item{'s' if node['minItems'] != 1 else ''}" if node.get("minItems") else "",
              f"pattern `{node['pattern']}`" if "pattern" in node else ""]
    item = _resolve(node.get("items", {}), schema) if node.get("type") == "array" else {}
    bounds += [f"each ≥ {written(item['minimum'])}" if "minimum" in item else "",
               f"each ≤ {written(item['maximum'])}" if "maximum" in item else "",
               "each one of " + ", ".join(f"`{v}`" for v in item["enum"]) if "enum" in item else ""]
    return ", ".join(p for p in parts + bounds if p)


def config_keys(schema: dict) -> list[dict]:
    """Every key of the config schema, depth first, as {path, node, required, parent_path}.

    A map whose keys are names (experiments, protocols, sweeps…) shows as ``<name>``, a key allowed by a pattern
    as ``<key>``, an array of objects as ``[]``."""
    out: list[dict] = []

    def walk(node: dict, path: list[str]):
        node = _resolve(node, schema)
        required = set(node.get("required", []))
        for key, child in node.get("properties", {}).items():
            out.append({"path": path + [key], "node": child, "required": key in required})
            walk(child, path + [key])
        for pattern, child in node.get("patternProperties", {}).items():
            out.append({"path": path + ["<key>"], "node": child, "required": False, "pattern": pattern})
            walk(child, path + ["<key>"])
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            extra_node = _resolve(extra, schema)
            if extra_node.get("properties") or extra_node.get("additionalProperties") not in (None, False):
                out.append({"path": path + ["<name>"], "node": extra, "required": False})
                walk(extra, path + ["<name>"])
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            item = _resolve(node["items"], schema)
            if item.get("properties"):
                walk(node["items"], path[:-1] + [path[-1] + "[]"] if path else ["[]"])

    walk(schema, [])
    # one row per path (a key reached through several branches is listed once)
    seen, unique = set(), []
    for entry in out:
        key = tuple(entry["path"])
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


_MISSING = object()


def config_value(config, path: list[str]):
    """The value at a key path of the config file, or _MISSING (a path through ``<name>`` or ``[]`` has none)."""
    node = config
    for part in path:
        if part.startswith("<") or part.endswith("[]") or not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _shown(value, limit: int = 90) -> str:
    if isinstance(value, dict) and value:
        names = list(value)
        text = ("entries: " if all(isinstance(v, (dict, list)) for v in value.values()) else "sets: ") + ", ".join(
            f"`{k}`" for k in names[:40]) + (f" and {len(names) - 40} more" if len(names) > 40 else "")
        return text
    text = written(value)
    text = text if len(text) <= limit else text[:limit] + " …"
    return f"`{text}`"


def top_level_comments(config_text: str) -> dict[str, str]:
    """The comment lines written right above each top-level key of config.yaml (what the file says of it)."""
    out, block = {}, []
    for line in config_text.splitlines():
        if line.startswith("#"):
            block.append(line.lstrip("#").strip())
        elif match := re.match(r"^([a-z_]+):", line):
            if block:
                out[match.group(1)] = " ".join(block)
            block = []
        elif not line.strip():
            block = []
        else:
            block = [] if not line.startswith(" ") else block
    return out


def configuration_reference(schema: dict, config: dict, config_text: str = "") -> str:
    """Markdown: one section per top-level key of the schema, one table row per key below it."""
    comments = top_level_comments(config_text)
    keys = config_keys(schema)
    required_top = set(schema.get("required", []))
    lines = []
    tops = [e for e in keys if len(e["path"]) == 1]
    for top in tops:
        name = top["path"][0]
        node = _resolve(top["node"], schema)
        lines += [f"## `{name}`", ""]
        lines.append(("Required. " if name in required_top else "Optional. ") + f"Allows: {_kind(top['node'], schema)}.")
        if node.get("description"):
            lines += ["", f"**The schema says:** {node['description']}"]
        if name in comments:
            lines += ["", f"**config/config.yaml says:** {comments[name]}"]
        value = config_value(config, [name])
        if isinstance(value, dict):
            lines += ["", f"In config/config.yaml: {_shown(value)}."]
        elif value is not _MISSING and not isinstance(value, list):
            lines += ["", f"In config/config.yaml: {_shown(value)}" + (
                f" (schema default: `{written(node['default'])}`)" if "default" in node else "")]
        elif value is _MISSING:
            lines += ["", "Not set in config/config.yaml" + (
                f"; default `{written(node['default'])}`." if "default" in node else ".")]
        below = [e for e in keys if len(e["path"]) > 1 and e["path"][0] == name]
        if below:
            lines += ["", "| key | allows | required | in config/config.yaml | description |",
                      "| --- | --- | --- | --- | --- |"]
            for entry in below:
                child = _resolve(entry["node"], schema)
                value = config_value(config, entry["path"])
                shown = "" if value is _MISSING else _shown(value)
                if "default" in child:
                    shown = (shown + "; " if shown else "") + f"default `{written(child['default'])}`"
                description = child.get("description", "")
                if "pattern" in entry:
                    description = (f"keys matching `{entry['pattern']}`. " + description).strip()
                elif entry["path"][-1] == "<name>":
                    description = ("one entry per name. " + description).strip()
                lines.append(f"| `{'.'.join(entry['path'])}` | {_cell(_kind(entry['node'], schema))} | "
                             f"{'yes' if entry['required'] else ''} | {_cell(shown)} | {_cell(description)} |")
        lines.append("")
    return "\n".join(lines)


# --- the claims ------------------------------------------------------------------------------------------------------

def threshold(claimed: dict) -> str:
    """What makes a row hold, from its ``claimed``: ``> t``, ``< t`` or ``within [a, b]``."""
    if "above" in claimed:
        return f"above {written(claimed['above'])}"
    if "below" in claimed:
        return f"below {written(claimed['below'])}"
    low, high = claimed["within"]
    return f"within [{written(low)}, {written(high)}]"


def design(row: dict) -> str:
    """How a row reads its runs: the statistic, of what, compared how."""
    s = f"`{row['statistic']}`"
    curve = f"{row.get('split', 'validation')} {row.get('metric', 'loss')}".replace("_", " ")
    if "of" in row:
        return f"{s} of the `{row['of'][0]}` role's {curve} curve, mean over runs"
    if "compare" in row:
        a, b = row["compare"]
        if "train_sizes" in row:  # each side a learning curve's point
            n, m = row["train_sizes"]
            return (f"{s}(`{b}` on {m:,} reviews) − {s}(`{a}` on {n:,} reviews) on the {curve} curve, paired by run "
                    "(points of the learning curves)")
        return f"{s}(`{b}`) − {s}(`{a}`) on the {curve} curve, paired by run"
    if "trend" in row:
        return (f"per run, the rank correlation of {s} ({curve}) with the order of `{row['trend']}` "
                "(number of parameters, then the sweep's axis)")
    if "fit" in row:
        return f"{s} of the final fit `{row['fit']}` on the test set"
    if "study" in row:
        roles = " and ".join(f"`{r}`" for r in row["study"])
        against = f", against the best of {row['against_configs']}" if "against_configs" in row else ""
        return f"{s} of the estimates of the protocol role{'s' if len(row['study']) > 1 else ''} {roles}{against}"
    if "duplicates" in row:
        spec = row["duplicates"]
        return (f"{s}: {row.get('metric', 'acc')} on the `{spec['scored']}` test reviews after epoch {spec['epoch']}, "
                "trained with the training duplicates − without them, paired by seed")
    if "images" in row:
        images = row["images"]
        arms = (f"arm `{images['of']}`" if "of" in images
                else f"arm `{images['compare'][1]}` − arm `{images['compare'][0]}`, paired by seed")
        splits = f", on the splits {' and '.join(images['splits'])}" if "splits" in images else ""
        return f"{s} of image study `{images['study']}`: {arms}{splits} ({row.get('metric', 'loss')})"
    if "clock" in row:
        clock = row["clock"]
        if "of" in clock:
            return f"{s} of the clock read by `{clock['of']}`, in minutes"
        (a, n), (b, m) = clock["compare"]
        return f"{s} of `{b}` trained on {m} faces − `{a}` trained on {n}, paired by seed, in minutes"
    if "pretraining" in row:
        spec = row["pretraining"]
        a, b = spec["compare"]
        sizes = spec["labeled"] if isinstance(spec["labeled"], str) else " − at the ".join(spec["labeled"])
        return f"validation accuracy of start `{b}` − start `{a}`, paired by run, at the {sizes} labeled size"
    if "recipe" in row:
        spec = row["recipe"]
        if "rung" in spec:
            return f"{s} of the {spec['rung']} rung of the recipe's step 5 ladder (task `{spec['task']}`), over folds"
        a, b = spec["compare"]
        return f"{s} of the {b} rung − the {a} rung of the recipe's step 5 ladder (task `{spec['task']}`), paired by fold"
    return s


def post_hoc(row: dict) -> bool:
    return any(h.get("seen") == "after" for h in row.get("history", []))


def section_title(section: str) -> str:
    if re.fullmatch(r"\d+(?:\.\d+)*", section):
        return f"Section {section}"
    return section.replace("2nd ed.", "2nd edition, section")


def sections(chapter: dict) -> dict[str, list[dict]]:
    """The rows grouped by their section, in the order the sections first appear in the file."""
    out: dict[str, list[dict]] = {}
    for row in chapter["claims"]:
        out.setdefault(str(row["section"]), []).append(row)
    return out


def claims_page(chapter: dict) -> str:
    """Markdown: per section, a summary table of its rows, then each row in full with its history."""
    rows = chapter["claims"]
    groups = sections(chapter)
    lines = [f"config/chapter.yaml declares {len(rows)} rows in {len(groups)} sections; "
             f"{sum(post_hoc(r) for r in rows)} are post hoc (a change made after their results were seen), "
             f"{sum(any(h.get('seen') == 'unknown' for h in r['history']) for r in rows)} have a change whose timing "
             f"the record cannot tell (seen: unknown), "
             f"{sum('requires' in r for r in rows)} have a guard, "
             f"{sum('not_testable' in r for r in rows)} are marked not testable here and "
             f"{sum(bool(r.get('noise_floor')) for r in rows)} judge a rise against its noise floor.", ""]
    for section, group in groups.items():
        lines += [f"## {section_title(section)}", "",
                  "| id | the book says | holds if | judged under |", "| --- | --- | --- | --- |"]
        for row in group:
            under = ", ".join(f"`{p}`" for p in row.get("protocols", [])) or (
                "its final fit" if "fit" in row else "its own runs")
            lines.append(f"| [{row['id']}](#claim-{row['id']}) | {_cell(row['sentence'])} | "
                         f"{threshold(row['claimed'])} | {under} |")
        lines.append("")
        for row in group:
            lines += [f"### {row['id']} {{ #claim-{row['id']} }}", "", f"> {row['sentence']}", "",
                      f"- **Statistic**: {design(row)}."]
            if row.get("protocols"):
                lines.append("- **Judged under** the protocol roles " + ", ".join(f"`{p}`" for p in row["protocols"])
                             + " (one row of results/claims.csv each).")
            lines.append(f"- **Holds if** the whole interval is {threshold(row['claimed'])}"
                         + (" (raised to the noise floor of its runs where that is higher)" if row.get("noise_floor")
                            else "") + ".")
            lines.append(f"- **The words, read**: {row['words']}.")
            if "requires" in row:
                lines.append(f"- **Guard**: vacuous where [{row['requires']}](#claim-{row['requires']}) "
                             "does not hold (same protocol).")
            if "iterate" in row:
                lines.append(f"- **Iterated**: {row['iterate']} repeats per iterated K-fold estimate.")
            if "not_testable" in row:
                lines.append(f"- **Not testable here**: {row['not_testable']}.")
            lines.append(f"- **History**{' (post hoc)' if post_hoc(row) else ''}:")
            for h in row["history"]:
                commit = f", {h['commit']}" if h.get("commit") else ""
                seen = f"seen {h['seen']}" + (f": {h['seen_why']}" if h.get("seen_why") else "")
                lines.append(f"    - {h['date']}{commit} ({seen}): {h['change']}. Why: {h['why']}.")
            lines.append("")
    return "\n".join(lines)


def chapter_comments(chapter_text: str) -> dict[str, str]:
    """What the comment at the top of config/chapter.yaml says of each field of a claim row ("#   of: [role]   the
    statistic of one experiment…", continued on the lines below it)."""
    out: dict[str, str] = {}
    names: list[str] = []
    for line in chapter_text.splitlines():
        if not line.startswith("#"):
            if out:
                break
            continue
        if match := re.match(r"^#   (\S.*?)\s{2,}(\S.*)$", line):
            names = [n.strip() for n in match.group(1).split(":")[0].split(",")]
            for name in names:
                out[name] = match.group(2)
        elif names and (match := re.match(r"^#\s{10,}(\S.*)$", line)):
            for name in names:
                out[name] += " " + match.group(1)
        else:
            names = []
    return out


def claim_fields(schema: dict, chapter_text: str = "") -> str:
    """Markdown: a table of the fields a claim row may have, from workflow/schemas/chapter.schema.yaml (and what
    the comment at the top of config/chapter.yaml says of each, where the schema has no description)."""
    comments = chapter_comments(chapter_text)
    row = schema["properties"]["claims"]["items"]
    required = set(row.get("required", []))
    forms = [" + ".join(f"`{k}`" for k in branch["required"]) for branch in row.get("oneOf", [])]
    lines = ["## The fields of a claim row", "",
             "From `workflow/schemas/chapter.schema.yaml`. Every row has "
             + ", ".join(f"`{k}`" for k in row.get("required", []))
             + "; and exactly one of these forms: " + "; ".join(forms) + ".", "",
             "| field | allows | required | description |", "| --- | --- | --- | --- |"]
    for key, node in row["properties"].items():
        description = _resolve(node, schema).get("description") or comments.get(key, "")
        lines.append(f"| `{key}` | {_cell(_kind(node, schema))} | {'yes' if key in required else ''} | "
                     f"{_cell(description)} |")
        item = _resolve(node.get("items", {}), schema) if isinstance(node.get("items"), dict) else {}
        for sub, subnode in {**_resolve(node, schema).get("properties", {}), **item.get("properties", {})}.items():
            sub_required = sub in set(_resolve(node, schema).get("required", []) + item.get("required", []))
            path = f"{key}[].{sub}" if item else f"{key}.{sub}"
            lines.append(f"| `{path}` | {_cell(_kind(subnode, schema))} | {'yes' if sub_required else ''} | "
                         f"{_cell(_resolve(subnode, schema).get('description', ''))} |")
    return "\n".join(lines) + "\n"


def generated(name: str) -> str:
    """The text that replaces ``<!-- generated: NAME -->``, from the repository's files as they are now."""
    if name == "configuration":
        return configuration_reference(load(CONFIG_SCHEMA), load(CONFIG), CONFIG.read_text(encoding="utf-8"))
    if name == "claims":
        return claims_page(load(CHAPTER)) + "\n" + claim_fields(load(CHAPTER_SCHEMA),
                                                             CHAPTER.read_text(encoding="utf-8"))
    raise KeyError(f"no generator named {name!r} (known: configuration, claims)")


# --- numbers quoted from a measurement -------------------------------------------------------------------------------

MEASURED_MARK = re.compile(r"<!--\s*measured:\s*([0-9a-f]{7,40})\s+on\s+([^>]+?)\s*-->")
MEASURED_END = re.compile(r"<!--\s*/measured\s*-->")
HEADING = re.compile(r"^#{1,6}\s")
NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
MEASURED = re.compile("|".join([
    rf"{NUMBER}\s*(?:min|minutes?|s|ms|µs|seconds?|hours?)\b",      # times: 19 min 36 s, 0.65 s, 1.0 ms
    rf"{NUMBER}×|{NUMBER}x\b",                                         # ratios: 1.8×, 2.11x
    rf"{NUMBER}\s*%",                                                  # percentages
    rf"{NUMBER}\s*(?:GFLOP/s|GB/s|MB/s|G elements/s)",                 # speeds
    rf"{NUMBER}\s*(?:KB|MB|GB|TB|KiB|MiB|GiB|bytes)\b",                # sizes
    rf"{NUMBER}\s+(?:passed|failed|skipped|tests|errors)\b",           # counts of tests run
]))
# percentages that are settings or definitions, not measurements: a 95% interval, a 5% level, a 10%-positive draw,
# the last 20% of the images, the middle 50% of runs
NOT_MEASURED = re.compile(r"\d+%\s+(?:interval|confidence)|(?:at|level of)\s+\d+%|\d+%[- ]positive"
                          r"|(?:last|first|middle)\s+\d+%")


def _prose(text: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines a reader reads as prose: fenced code, inline code and comments blanked,
    but marker comments kept."""
    out, fenced = [], False
    text = re.sub(r"<!--(?!\s*/?measured).*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        out.append((number, "" if fenced else re.sub(r"`[^`]*`", "", line)))
    return out


def unmarked_measurements(text: str) -> list[tuple[int, str]]:
    """(line, number) of every measured-looking number outside a ``<!-- measured: COMMIT on MACHINE -->`` block."""
    found, marked = [], False
    for number, line in _prose(text):
        if HEADING.match(line):
            marked = False
        if MEASURED_MARK.search(line):
            marked = True
            continue
        if MEASURED_END.search(line):
            marked = False
            continue
        if marked:
            continue
        allowed = [m.span() for m in NOT_MEASURED.finditer(line)]
        for m in MEASURED.finditer(line):
            if not any(a <= m.start() < b for a, b in allowed):
                found.append((number, m.group(0)))
    return found


def measured_commits(text: str) -> list[str]:
    """The commits the ``measured`` markers of a text name."""
    return [m.group(1) for m in MEASURED_MARK.finditer(text)]


# --- MkDocs hooks ----------------------------------------------------------------------------------------------------

def on_page_markdown(markdown: str, page, config, files) -> str:
    """Check the page's measured numbers, then put the generated text in place of its markers."""
    for line, number in unmarked_measurements(markdown):
        log.warning("%s:%d: %r looks measured but no <!-- measured: COMMIT on MACHINE --> block covers it",
                    page.file.src_uri, line, number)
    return GENERATED.sub(lambda m: generated(m.group(1)), markdown)
