"""SmtpSink: a local aiosmtpd server that keeps what it receives, for tests and the benchmark."""

import asyncio
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import UnthreadedController
from aiosmtpd.smtp import AuthResult, LoginPassword

# The largest message accepted (aiosmtpd's default, too).
MESSAGE_LIMIT = 32 * 1024 * 1024


class _Silent(asyncio.Protocol):
    """A provider that accepted the connection and then went silent: no greeting, ever."""

    transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport


class _Controller(UnthreadedController):
    """aiosmtpd's controller, counting connections and going silent when the sink hangs."""

    def __init__(self, sink: "SmtpSink", **kwargs):
        super().__init__(sink, **kwargs)
        self.sink = sink
        self.protocols: list[asyncio.BaseProtocol] = []

    def factory(self) -> asyncio.BaseProtocol:
        self.sink.connections += 1
        protocol = _Silent() if self.sink.hang else super().factory()
        self.protocols.append(protocol)
        return protocol


@dataclass
class SmtpSink:
    """Answers like a real provider would, optionally slowly (`delay`) or not at all (`hang`).

    It accepts any AUTH PLAIN or LOGIN (recorded in `logins`) so the credentials a mailer
    sends can be checked, and listens on 127.0.0.1 only.
    """

    delay: float = 0.0
    hang: bool = False
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    # When each message was accepted (time.time()), in the order of `messages`.
    accepted_at: list[float] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    # When set, only "<time> <recipient>" lines are written there per accepted message,
    # with no parsing: the benchmark's sink runs as a process of its own, like a provider.
    log_path: str | None = None

    def start(self) -> "SmtpSink":
        """Serve in a background thread until the process ends or stop() is called."""
        self._loop = asyncio.new_event_loop()
        self._controller = _Controller(
            self,
            loop=self._loop,
            hostname="127.0.0.1",
            port=self.port,  # 0: any free one, read back below
            server_hostname="sink.localhost",
            data_size_limit=MESSAGE_LIMIT,
            auth_require_tls=False,
            authenticator=self._authenticate,
        )
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("the SMTP sink did not start")
        return self

    def stop(self) -> None:
        """Stop listening and drop the connections still open, as a provider going away."""
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        self._controller.begin()
        self.port = self._controller.server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _close(self) -> None:
        for protocol in self._controller.protocols:
            if protocol.transport is not None:
                protocol.transport.abort()
        await self._controller.finalize()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        await asyncio.gather(*others, return_exceptions=True)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        """Keep one message: aiosmtpd hands over the whole DATA, already un-dot-stuffed."""
        await asyncio.sleep(self.delay)
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.writelines(f"{time.time()} {to}\n" for to in envelope.rcpt_tos)
        else:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.accepted_at.append(time.time())
        return "250 2.0.0 Ok: queued"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Run the SMTP sink as a process.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--log", required=True, help="file of '<time> <recipient>' lines")
    args = parser.parse_args()
    SmtpSink(delay=args.delay, port=args.port, log_path=args.log).start()
    threading.Event().wait()
