"""The fault campaign's kinds, one module each; benchmarks/fault_campaign.py runs them."""
