"""The oracle tier: the engine against each edition's Keras. A package, so that its conftest is imported as
``oracle.conftest`` and never stands in for the tests' own ``conftest`` (which the other tests import from)."""
