"""Data quality: audits run on write-audit-publish branches, and the audit log."""
