"""gateway: the only HTTP surface. Authenticates, validates, calls services over gRPC, and shapes
JSON (OpenAPI 3, problem+json errors). It holds no domain state. See docs/gateway.md."""
