"""The conductor's long tasks, which span several hosts: building instances
(placement, records, the cast to the chosen host), live migration (the DESIGN.md
sequence across source and destination), and fanning out security-group rule
refreshes. ``manager.ComputeTaskManager`` serves them on the conductor's topic,
in namespace ``compute_task``; ``cumulo.conductor.tasks_api`` is their client.

This ``__init__`` imports nothing, so the client can import ``exceptions``
without the tasks themselves.
"""
