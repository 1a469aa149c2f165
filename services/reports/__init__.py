"""Reports on paper and as data: every PDF and export (model card, case letter, evidence pack,
portfolio).
"""
