"""Server-side codecs for botocore's wire protocols, driven by botocore's own service models."""
