"""Generation internals: schema-driven strategies, scenes, renderers and mutations.

The public entry point is :mod:`face_contracts.strategies`.
"""
