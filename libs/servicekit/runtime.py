"""A service's running parts: pool, event store, writer, relay, consumers, authenticator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from libs.events.batch import STATS as WRITER_STATS
from libs.events.consumer import BatchHandler, EventConsumer, Handler
from libs.events.kafka import new_producer
from libs.events.relay import OutboxRelay
from libs.events.sessions import reset_changed
from libs.events.shutdown import cancel_all, within
from libs.events.store import EventStore, EventTransaction
from libs.events.writer import CommandWriter
from libs.servicekit.auth import Authenticator
from libs.servicekit.database import asyncpg_dsn
from libs.servicekit.ledger import Transparency
from libs.servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
STATEMENT_TIMEOUT_SECONDS = 30.0

ConsumerFactory = Callable[["Runtime"], Sequence[EventConsumer]]
TaskFactory = Callable[["Runtime"], Sequence[Coroutine[Any, Any, None]]]


@dataclass
class Runtime:
    settings: ServiceSettings
    consumer_factory: ConsumerFactory | None = None
    task_factory: TaskFactory | None = None
    pool: asyncpg.Pool = field(init=False)
    store: EventStore = field(init=False)
    writer: CommandWriter = field(init=False)
    relay: OutboxRelay | None = field(init=False, default=None)
    consumers: list[EventConsumer] = field(init=False, default_factory=list)
    authenticator: Authenticator = field(init=False)
    probe: AIOKafkaProducer | None = field(init=False, default=None)
    extras: dict[str, Any] = field(init=False, default_factory=dict)
    transparency: Transparency = field(init=False)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)

    async def start(self) -> None:
        s = self.settings
        s.check_production()
        # Bounded waits everywhere: a connect attempt, and every statement (a request that
        # cannot reach PostgreSQL gets 503 within seconds, never hangs).
        self.pool = await asyncpg.create_pool(
            asyncpg_dsn(s.database_url),
            min_size=1,
            max_size=s.db_pool_size,
            timeout=CONNECT_TIMEOUT_SECONDS,
            command_timeout=STATEMENT_TIMEOUT_SECONDS,
            reset=reset_changed,  # the full reset only where a session changed
        )
        self.store = EventStore(self.pool, s.service)
        self.writer = CommandWriter(self.store)
        await self.writer.start()
        self.authenticator = Authenticator(s)
        self.transparency = Transparency.of(s)
        if s.relay_enabled:
            self.relay = OutboxRelay(self.store, s.kafka_bootstrap_servers, s.own_topic)
            self._spawn(self.relay.run_forever(), f"relay-{s.service}")
        if s.consumers_enabled and self.consumer_factory is not None:
            self.consumers = list(self.consumer_factory(self))
            for consumer in self.consumers:
                self._spawn(consumer.run_forever(), f"consumer-{consumer.name}")
        if self.task_factory is not None:
            for number, coro in enumerate(self.task_factory(self)):
                self._spawn(coro, f"{s.service}-task-{number}")

    async def stop(self) -> None:
        # Each step is bounded (libs/events/shutdown.py): a stuck client is logged and left
        # behind rather than keeping the process from exiting.
        await cancel_all(self._tasks)
        self._tasks.clear()
        await within("the command writer's stop", self.writer.stop())
        if self.probe is not None:
            await within("the readiness probe's stop", self.probe.stop())
        if not await within("closing the database pool", self.pool.close()):
            self.pool.terminate()

    def consumer(
        self,
        name: str,
        source_service: str,
        handler: Handler,
        batch_handler: BatchHandler | None = None,
    ) -> EventConsumer:
        """A consumer of another service's topic, writing through this service's writer
        (`batch_handler`: a run of events in one transaction, set-wise)."""
        s = self.settings
        return EventConsumer(
            name=f"{s.topic_prefix}{s.service}.{name}",
            writer=self.writer,
            bootstrap=s.kafka_bootstrap_servers,
            topics=[s.topic(source_service)],
            handler=handler,
            session_timeout_ms=s.kafka_session_timeout_ms,
            batch_handler=batch_handler,
        )

    async def readiness(self) -> dict[str, str]:
        checks = {"database": "ok", "broker": "ok"}
        try:
            # Through the writer, as every command goes: ready means a transaction can commit.
            async with asyncio.timeout(3):
                await self.writer.execute(_select_one)
        except Exception as exc:
            checks["database"] = f"cannot commit: {type(exc).__name__}"
        try:
            async with asyncio.timeout(3):
                await self._probe_broker()
        except Exception as exc:
            checks["broker"] = f"unreachable: {type(exc).__name__}"
            self.probe = None
        return checks

    async def _probe_broker(self) -> None:
        if self.probe is None:
            probe = new_producer(self.settings.kafka_bootstrap_servers)
            await probe.start()
            self.probe = probe
        await self.probe.client.fetch_all_metadata()

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    def metrics(self) -> dict[str, float]:
        values: dict[str, float] = {
            "tanhui_writer_commands_total": self.writer.commands,
            "tanhui_writer_batches_total": self.writer.batches,
            "tanhui_writer_pessimistic_reruns_total": WRITER_STATS["pessimistic_reruns"],
            "tanhui_writer_batch_seconds_total": round(WRITER_STATS["batch_seconds"], 3),
            "tanhui_writer_kept_state_used_total": self.store.kept_used,
        }
        if self.relay is not None:
            values["tanhui_relay_published_total"] = self.relay.published
            values["tanhui_relay_position"] = self.relay.position
            values["tanhui_relay_republished_total"] = self.relay.republished
        for consumer in self.consumers:
            label = f'{{consumer="{consumer.name}"}}'
            values[f"tanhui_consumer_lag{label}"] = consumer.total_lag
            values[f"tanhui_consumer_applied_total{label}"] = consumer.applied
            values[f"tanhui_consumer_dead_lettered_total{label}"] = consumer.dead_lettered
            values[f"tanhui_consumer_gaps_healed_total{label}"] = consumer.gaps_healed
            for topic, watermark in consumer.watermarks.items():
                source = f'{{consumer="{consumer.name}",topic="{topic}"}}'
                values[f"tanhui_consumer_source_watermark{source}"] = watermark
        return values


async def _select_one(tx: EventTransaction) -> None:
    await tx.fetchval("SELECT 1")
