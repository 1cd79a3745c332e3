"""The connection-pooling benchmark: `bench/pool/run` (see bench/pool/README.md)."""
