"""The library versions the fidelity patches were written for, checked before any patch.

The patches replace private parts of moto (methods of its backends and response classes,
module attributes). Another release may rename or reshape them: the first version's lab
crashed on a fresh machine where pip had chosen a newer moto inside the declared range. A
version other than the one a patch was read against stops the lab with one line instead of
a traceback, or worse, a patch that silently stops applying. To move to a new release: read
each patched function in it, adjust the patch, run the tests, and update `WRITTEN_FOR` and
constraints.txt together.
"""

from __future__ import annotations

from importlib import metadata

from dr.errors import LabDependencyMismatch

WRITTEN_FOR = {"moto": "5.2.5"}


def require_written_for(library: str = "moto") -> None:
    """Raise `LabDependencyMismatch` unless the installed `library` is the version the
    patches were written for."""
    expected = WRITTEN_FOR[library]
    try:
        found = metadata.version(library)
    except metadata.PackageNotFoundError:
        found = None
    if found == expected:
        return
    raise LabDependencyMismatch(
        f"{library} {found or '(none)'} is installed, but the lab's fidelity layer was written "
        f"for {library} {expected}; install the tested versions: "
        "python3 -m pip install -c constraints.txt '.[lab]'")
