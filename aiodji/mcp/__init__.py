"""The MCP server over the operation table (extra ``aiodji[mcp]``): ``aiodji mcp serve``."""

from .policy import ToolPolicy, tool_name
from .server import PlanBook, build_server, serve

__all__ = ["PlanBook", "ToolPolicy", "build_server", "serve", "tool_name"]
