"""`caches:` (ElastiCache global datastores): parsed into the model, and refused with its key
path when wrong."""

from __future__ import annotations

import pytest

from dr import config
from dr.config.model import Cache
from dr.errors import ConfigError
from tests.support.contract import CONTRACT_YAML

CACHES = """\
caches:
  - name: sessions
    global_group: timeline-sessions
    primary: timeline-sessions
    secondary: timeline-sessions-dr
"""


def test_caches_parse_into_the_model() -> None:
    parsed = config.parse(CONTRACT_YAML + CACHES)
    assert parsed.caches == (Cache("sessions", "timeline-sessions", "timeline-sessions",
                                   "timeline-sessions-dr"),)
    assert parsed.caches[0].side("secondary") == "timeline-sessions-dr"
    assert config.parse(CONTRACT_YAML).caches == ()


@pytest.mark.parametrize(("text", "said"), [
    (CACHES.replace("    global_group: timeline-sessions\n", ""),
     "caches[0].global_group: required"),
    (CACHES.replace("primary: timeline-sessions", "primary: 9sessions"),
     "caches[0].primary: must be an ElastiCache replication group id"),
    (CACHES.replace("global_group: timeline-sessions", "global_group: ldgnf--x"),
     "caches[0].global_group: must be an ElastiCache replication group id"),
    (CACHES.replace("secondary: timeline-sessions-dr", "secondary: " + "x" * 41),
     "caches[0].secondary: must be an ElastiCache replication group id"),
    (CACHES + CACHES.replace("caches:\n", ""), "caches[1]: duplicates caches[0] (same name)"),
    (CACHES.replace("  - name: sessions\n", "  - name: sessions\n    port: 6379\n"),
     "caches[0].port: unknown key"),
])
def test_wrong_cache_keys_are_named(text: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config.parse(CONTRACT_YAML + text)
    assert any(said in problem for problem in refused.value.problems), refused.value.problems
