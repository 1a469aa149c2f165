"""Evidence: computed from the exact model version and hold-out data, stored immutably (evaluation,
fairness, reference profiles), and the gates judged from it.
"""
