"""The marketplace domain: every business rule lives here, free of Flask request objects.

Each capability is a module. Functions take plain values, run one transaction per state
change, and raise :mod:`foof.domain.errors` exceptions that each wire face maps to its own
messages in one place.
"""
