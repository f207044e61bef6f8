"""Names of a package imported on first use (PEP 562 module ``__getattr__``), so that importing the
package does not import every module behind its public names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(package: str, modules: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``name`` from its submodule ``modules[name]``
    on first access and keeps it in the package's namespace (the next access is a plain attribute)."""
    namespace = vars(import_module(package))

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return __getattr__
