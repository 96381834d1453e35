"""The HTTP routers. Importing them registers the ``{x:name}`` path convertor they use."""

from schemakg.app.api import paths as paths
