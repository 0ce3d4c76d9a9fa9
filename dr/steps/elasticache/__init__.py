"""ElastiCache (Redis OSS / Valkey) global datastores: the recovery region's member takes
writes (failed over to, or detached when the old region is lost), and re-protection builds
the datastore again around it. One module per step kind (`promote`; `reprotect` and
`secondary` for the re-protection); what they share is in `common`."""

from dr.steps.elasticache.common import (
    DETACHED_TAG,
    describe_group,
    detached_from,
    is_ours,
    membership,
    writable,
)
from dr.steps.elasticache.promote import PromoteMember
from dr.steps.elasticache.reprotect import RecreateGlobalDatastore, RetireOldMember
from dr.steps.elasticache.secondary import CreateSecondary

__all__ = ["DETACHED_TAG", "CreateSecondary", "PromoteMember", "RecreateGlobalDatastore",
           "RetireOldMember", "describe_group", "detached_from", "is_ours", "membership",
           "writable"]
