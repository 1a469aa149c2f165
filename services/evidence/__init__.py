"""Evidence: computed from the exact model version and hold-out data, stored immutably."""
