"""What every other package stands on: settings, the clock, errors, principals and permissions, the
policy, hashing and canonical JSON. Imports nothing else of services.
"""
