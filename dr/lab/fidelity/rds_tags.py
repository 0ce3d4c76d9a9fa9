"""RDS tags checked as RDS checks them. moto stores any key and value; RDS refuses a key or
value outside its character set or length, or one that starts with `aws:` or `rds:`. The
fence once stored security groups joined by commas, which every test accepted and RDS
refused: the lab must refuse it too.

https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html: a key is 1 to 128
Unicode characters, a value 0 to 256; neither can be prefixed with `aws:` or `rds:`; both
"can only contain only the set of Unicode letters, digits, white-space, '_', '.', ':', '/',
'=', '+', '-', '@'" (Java regex `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`)."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import Any

from botocore import xform_name
from botocore.session import get_session
from moto.rds.exceptions import InvalidParameterValue
from moto.rds.responses import RDSResponse

_PUNCTUATION = frozenset("_.:/=+-@")
_RESERVED_PREFIXES = ("aws:", "rds:")
_LIMITS = {"Key": (1, 128), "Value": (0, 256)}


def problem(part: str, text: str) -> str | None:
    """Why RDS refuses `text` as a tag's `part` ("Key" or "Value"), or None."""
    low, high = _LIMITS[part]
    if not low <= len(text) <= high:
        return f"must be {low} to {high} characters long (it is {len(text)})"
    if text.lower().startswith(_RESERVED_PREFIXES):
        return "cannot start with aws: or rds:"
    bad = sorted({c for c in text if not _allowed(c)})
    if bad:
        return f"contains {', '.join(repr(c) for c in bad)}, outside the characters RDS allows"
    return None


def _allowed(char: str) -> bool:
    # \p{L} letters, \p{N} numbers, \p{Z} separators (white-space).
    return char in _PUNCTUATION or unicodedata.category(char)[0] in "LNZ"


def _check(tags: list[dict[str, Any]] | None) -> None:
    for tag in tags or []:
        for part in ("Key", "Value"):
            text = tag.get(part)
            if text is None:
                continue
            why = problem(part, str(text))
            if why:
                raise InvalidParameterValue(f"Invalid tag {part.lower()} {text!r}: {why}")


def _tagged_actions() -> list[str]:
    """The RDS operations whose request carries `Tags`, from botocore's service model."""
    model = get_session().get_service_model("rds")
    names = []
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is not None and "Tags" in shape.members:
            names.append(name)
    return names


def install() -> None:
    def checked(action: Callable[[RDSResponse], Any]) -> Callable[[RDSResponse], Any]:
        @functools.wraps(action)
        def answer(self: RDSResponse) -> Any:
            _check(self.params.get("Tags"))
            return action(self)

        return answer

    for operation in _tagged_actions():
        method = xform_name(operation)
        original = getattr(RDSResponse, method, None)
        if original is not None:
            setattr(RDSResponse, method, checked(original))
