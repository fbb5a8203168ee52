"""The HTTP front door: one WSGI application (Falcon) serving every mounted service
under devstack's prefixes (``/identity`` now), run by gunicorn with several worker
processes (``cumulo api``; ``cumulo/api/server.py``).

``cumulo.api.app.create_app(ApiConfig(...))`` builds one worker's application; the
services it mounts are listed in ``cumulo/api/mounted.py`` (``cumulo/api/registry.py``
says what an entry is), errors are mapped in ``cumulo/api/errors.py``. This package
imports nothing on its own, so the CLI's parser can read ``cumulo.api.config``
without loading the web stack or the database layer.
"""
