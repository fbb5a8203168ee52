"""The compute service: one ``ComputeManager`` per host (``manager``), serving the
versioned RPC API that ``rpcapi.ComputeAPI`` speaks, driving a hypervisor driver
with objects only and recording every change through object methods.

This package's ``__init__`` imports nothing, so the conductor can import the RPC
client (``cumulo.compute.rpcapi``) without pulling in drivers or the manager.
"""
