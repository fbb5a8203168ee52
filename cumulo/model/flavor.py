"""``Flavor``: the size of an instance (memory, vCPUs, disks) and its extra specs."""

from __future__ import annotations

from typing import Any

from cumulo.objects import (
    NO_DEFAULT,
    field,
    register,
    remotable,
    remotable_added,
    remotable_classmethod,
)

from .base import CumuloObject, stored
from .exceptions import ObjectActionError
from .storage import get_storage


@register
class Flavor(CumuloObject):
    """A named instance size: memory, vCPUs, root/ephemeral/swap disks, extra specs.

    ``id`` is the database key and never changes once set; ``flavorid`` is the
    identifier users see. ``extra_specs`` carries scheduler and driver hints
    (``hw:cpu_policy``...) as strings, as Nova does.

    History: 1.0 first version. 1.1: remotable ``update_description``,
    ``update_extra_specs`` and ``delete_extra_spec`` (the API's writes; the data is
    unchanged, so an older peer reads a 1.1 flavor backlevelled to 1.0 as it was).
    """

    VERSION = "1.1"

    id: int = field(default=NO_DEFAULT, read_only=True)
    flavorid: str
    name: str
    memory_mb: int
    vcpus: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap: int = 0
    """Swap disk size in MiB (0: none)."""
    rxtx_factor: float = 1.0
    vcpu_weight: int | None = None
    disabled: bool = False
    is_public: bool = True
    extra_specs: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    @remotable_classmethod
    def get_by_id(cls: type[Flavor], context: Any, flavor_id: int) -> Flavor:
        """The flavor with database key ``flavor_id``; raises ``FlavorNotFound``."""
        return stored(get_storage().flavor_get_by_id(context, flavor_id))

    @remotable_classmethod
    def get_by_flavorid(cls: type[Flavor], context: Any, flavorid: str) -> Flavor:
        """The flavor users call ``flavorid``; raises ``FlavorNotFound``."""
        return stored(get_storage().flavor_get_by_flavorid(context, flavorid))

    @remotable
    def create(self) -> None:
        """Store a new flavor; ``id`` is set from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create flavor", f"already created (id {self.id})")
        self._obj_take_stored(get_storage().flavor_create(self.obj_context, self))

    @remotable
    def destroy(self) -> None:
        """Delete the flavor (instances keep their own copy)."""
        get_storage().flavor_destroy(self.obj_context, self.flavorid)

    @remotable_added("1.1")
    @remotable
    def update_description(self, description: str | None) -> None:
        """Set the description (Compute API 2.55); raises ``FlavorNotFound``."""
        storage = get_storage()
        self._obj_take_stored(
            storage.flavor_update_description(self.obj_context, self.flavorid, description)
        )

    @remotable_added("1.1")
    @remotable
    def update_extra_specs(self, specs: dict[str, str]) -> None:
        """Add or replace ``specs``, leaving other keys; raises ``FlavorNotFound``."""
        storage = get_storage()
        self._obj_take_stored(
            storage.flavor_update_extra_specs(self.obj_context, self.flavorid, specs)
        )

    @remotable_added("1.1")
    @remotable
    def delete_extra_spec(self, key: str) -> None:
        """Remove extra spec ``key``; raises ``FlavorExtraSpecNotFound``."""
        storage = get_storage()
        self._obj_take_stored(
            storage.flavor_delete_extra_spec(self.obj_context, self.flavorid, key)
        )


@register
class FlavorList(CumuloObject):
    """A list of flavors, as one object (what a query returns over RPC).

    History: 1.0 first version. 1.1: Flavor 1.1.
    """

    VERSION = "1.1"

    objects: list[Flavor] = field(default_factory=list)

    @remotable_classmethod
    def get_all(cls: type[FlavorList], context: Any, include_disabled: bool = True) -> FlavorList:
        """Every flavor, by ``id`` (disabled ones only when ``include_disabled``)."""
        rows = get_storage().flavor_get_all(context, include_disabled)
        return stored(cls(objects=rows))
