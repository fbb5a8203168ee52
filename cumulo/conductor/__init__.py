"""The conductor: the only process that uses the database at run time.

Compute hosts reach data only through the conductor's object endpoints
(``manager.ConductorManager``), with ``rpcapi.ConductorAPI`` as their objects'
indirection. This package's ``__init__`` imports nothing, so a compute process
can import the client without pulling in the database layer.
"""
