"""One namespace class per API area; thin: build the request, call the transport, structure."""

from aiodji.resources.livestream import Converters, Livestream

__all__ = ["Converters", "Livestream"]
