"""ClickHouse trace stores: the Collector clickhouseexporter's schema, `load`, and the queries
that `--from STORE` pushes down into the engine (chDB embedded, or a server over HTTP).

Nothing here imports chdb or clickhouse-connect at module level: they are the `store` extra,
loaded when a store is opened.
"""
