"""The Besu QBFT network: base genesis and the generator of keys, extraData and allow-lists."""
