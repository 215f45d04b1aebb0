"""The MCP server over the operation table (extra ``aiodji[mcp]``): ``aiodji mcp serve``."""

from .server import PlanBook, build_server, serve, tool_name

__all__ = ["PlanBook", "build_server", "serve", "tool_name"]
