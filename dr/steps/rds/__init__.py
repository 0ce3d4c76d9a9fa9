"""RDS: fence the old primary, promote the cross-region replica, and (reprotect) retire the
fenced old primary and re-create a replica of the new primary in its place. One module per
step type; what they share is in `common`."""

from dr.steps.rds.common import (
    FENCE_GROUP,
    FENCE_TAG,
    ORIGIN_TAG,
    describe,
    fence_tag_groups,
    fence_tag_value,
    fenced_from,
    retired_identifier,
    source_of,
    unfence,
)
from dr.steps.rds.fence import FencePrimary
from dr.steps.rds.promote import PromoteReplica
from dr.steps.rds.reprotect import CreateReplica, RetireOldPrimary

__all__ = ["FENCE_GROUP", "FENCE_TAG", "ORIGIN_TAG", "CreateReplica", "FencePrimary",
           "PromoteReplica", "RetireOldPrimary", "describe", "fence_tag_groups",
           "fence_tag_value", "fenced_from", "retired_identifier", "source_of", "unfence"]
