"""The methods of ``SqlStorage`` (cumulo/db/api.py), one module per kind of record,
mirroring ``cumulo/model``; each group is a mixin on :class:`.base.Queries`."""
