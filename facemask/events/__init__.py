"""Compliance events into the systems venue operators run: an event store (SQLite by default,
PostgreSQL for many cameras or sites), alert rules with webhook and MQTT delivery, snapshots of
unmasked people, a REST API and Prometheus metrics.

    pipeline results --EventSink--> events --Outlets--> EventWriter --> EventStore (SQLAlchemy + Alembic)
                                                   |          `--> Spool (JSON lines) while it is away
                                                   |--> MqttPublisher (facemask/<source>/...)
                                                   `--> AlertEngine --> alerts --> the same + WebhookSender

A front end makes the sink with `options.event_sink(EventOptions(...))` and adds it to its pipeline's
sinks; a server mounts `api.events_router(store)` and `metrics.metrics_router()` on its FastAPI app.
"""
