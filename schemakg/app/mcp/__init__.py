"""The catalogue for agents over the Model Context Protocol: stdio (``schemakg mcp``) and HTTP (``/mcp``)."""
