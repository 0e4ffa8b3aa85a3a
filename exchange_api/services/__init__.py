"""Business logic of the exchange: no HTTP here, only sessions, settings and the calling actor."""
