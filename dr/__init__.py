"""dr: disaster-recovery and failover toolkit for the timeline app on AWS."""

__version__ = "0.1.0"
