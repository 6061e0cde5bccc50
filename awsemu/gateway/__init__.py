"""The one port: which service owns a request, the request context, health and the Klein root."""
