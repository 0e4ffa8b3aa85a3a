"""The exchange service: catalogue, applications and grants over HTTP, anchored through an outbox."""
