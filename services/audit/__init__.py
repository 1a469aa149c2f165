"""The tamper-evident audit trail: the hash chain every write appends to (chain) and its reading,
verification and export (trail).
"""
