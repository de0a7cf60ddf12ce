"""Rules' code inputs come from the real imports (overfit.imports)."""

from pathlib import Path

import pytest

from conftest import REPO
from overfit.imports import job_code, module_files


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture()
def package(tmp_path) -> Path:
    return write(tmp_path, {
        "overfit/__init__.py": "",
        "overfit/errors.py": "",
        "overfit/jobs/__init__.py": "from overfit.errors import OverfitError\n",
        "overfit/jobs/stage.py": (
            "import logging\n"
            "def _helper():\n    from overfit.lib import util\n"
            "def first(job):\n    from overfit.lib.model import Model\n    _helper()\n"
            "def second(job):\n    from overfit import lonely\n"
        ),
        "overfit/lib/__init__.py": "",
        "overfit/lib/model.py": "from .shapes import Shape\n\ndef later():\n    import overfit.lib.deep\n",
        "overfit/lib/shapes.py": "import numpy as np\n",
        "overfit/lib/deep.py": 'CODE_FILES = ("kernel.cc",)\n',
        "overfit/lib/kernel.cc": "// a compiled kernel the module builds and runs\n",
        "overfit/lib/util.py": "",
        "overfit/lonely.py": "",
        "overfit/unused.py": "",
    })


def names(files, root):
    return sorted(str(Path(f).relative_to(root)) for f in files)


def test_a_job_imports_its_functions_closure_only(package):
    first = names(job_code("overfit.jobs.stage:first", package), package)
    assert first == ["overfit/__init__.py", "overfit/errors.py", "overfit/jobs/__init__.py", "overfit/jobs/stage.py",
                     "overfit/lib/__init__.py", "overfit/lib/deep.py", "overfit/lib/kernel.cc", "overfit/lib/model.py",
                     "overfit/lib/shapes.py", "overfit/lib/util.py"]
    # relative import, lazy import in a library function, the helper's import, a file the module declares its code
    second = names(job_code("overfit.jobs.stage:second", package), package)
    assert second == ["overfit/__init__.py", "overfit/errors.py", "overfit/jobs/__init__.py", "overfit/jobs/stage.py",
                      "overfit/lonely.py"]


def test_unknown_job_function_is_an_error(package):
    with pytest.raises(ValueError, match="no function 'third'"):
        job_code("overfit.jobs.stage:third", package)


def test_every_workflow_script_names_a_real_job():
    modules = module_files(REPO / "src")
    for script in (REPO / "workflow" / "scripts").glob("*.py"):
        line = next(l for l in script.read_text().splitlines() if l.startswith("from overfit.jobs."))
        module, function = line.removeprefix("from ").split(" import ")
        assert module in modules, script
        assert job_code(f"{module}:{function}", REPO / "src")


def test_the_training_jobs_code_includes_the_compiled_kernels_source():
    code = job_code("overfit.jobs.train:train", REPO / "src")
    assert str(REPO / "src" / "overfit" / "engine" / "csr_kernel.cc") in code
