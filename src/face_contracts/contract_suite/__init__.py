"""The live contract suite: documented requests sent to the real vendors (or any base URL,
or the local mock when none is given), every answer judged by :func:`face_contracts.validate`,
drift reported per operation, answers recorded redacted.

Run it from any folder against the installed package::

    pytest --pyargs face_contracts.contract_suite -p face_contracts.contract_suite.plugin

Modules: :mod:`.cases` (the requests and expected answers, as data), :mod:`.targets` (where
requests go, the local mock), :mod:`.judge` (drift), :mod:`.report` (the drift report),
:mod:`.runner` (one session), :mod:`.plugin` (pytest options and hooks).
"""
