"""Identity: domains, projects, users, roles and role assignments (a Keystone v3
subset), argon2 password hashes, and stateless Fernet tokens from a key repository.

Imports only ``cumulo.db`` (its tables and engines) and ``cumulo.model``; the HTTP
side is ``cumulo.api.identity``. Wiring::

    store = IdentityStore(create_engine(url))          # a synced database
    tokens = TokenFormatter(KeyRepository(key_dir))    # set up: setup() or bootstrap
    identity = IdentityManager(store, tokens)
    token = identity.authenticate(PasswordCredentials("pw", user_name="admin",
                                  domain_id="default"), ProjectScope(name="admin",
                                  domain_id="default"))
    identity.validate(token.id)
"""

from .exceptions import (
    AuthenticationFailed,
    Conflict,
    IdentityError,
    InvalidValue,
    KeyRepositoryError,
    NotFound,
    TokenExpired,
    TokenInvalid,
    Unauthorized,
)
from .keys import KeyRepository, default_key_repository
from .manager import IdentityManager, PasswordCredentials, ProjectScope, Token
from .passwords import PasswordHasher
from .records import DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, Domain, Project, Role, User
from .store import IdentityStore
from .tokens import TokenFormatter, TokenPayload

__all__ = [
    "DEFAULT_DOMAIN_ID",
    "DEFAULT_DOMAIN_NAME",
    "AuthenticationFailed",
    "Conflict",
    "Domain",
    "IdentityError",
    "IdentityManager",
    "IdentityStore",
    "InvalidValue",
    "KeyRepository",
    "KeyRepositoryError",
    "NotFound",
    "PasswordCredentials",
    "PasswordHasher",
    "Project",
    "ProjectScope",
    "Role",
    "Token",
    "TokenExpired",
    "TokenFormatter",
    "TokenInvalid",
    "TokenPayload",
    "Unauthorized",
    "User",
    "default_key_repository",
]
