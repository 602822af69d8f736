"""A local SMTP server that keeps what it receives: for tests and the benchmark.

It answers like a real provider would, optionally slowly (`delay`) or not at all
(`hang`), and accepts any AUTH PLAIN login so the credentials a mailer sends can be
checked. It listens on 127.0.0.1 only.
"""

import asyncio
import base64
import contextlib
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

# The largest message one read takes whole (asyncio's default is 64 KiB).
MESSAGE_LIMIT = 32 * 1024 * 1024


@dataclass
class SmtpSink:
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
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            self._server = await asyncio.start_server(
                self._session, "127.0.0.1", self.port, limit=MESSAGE_LIMIT
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            await self._server.serve_forever()

        self._thread = threading.Thread(
            target=lambda: self._loop.run_until_complete(self._run(serve)), daemon=True
        )
        self._thread.start()
        ready.wait(10)
        return self

    async def _run(self, serve) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await serve()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.connections += 1
        if self.hang:
            # A provider that accepted the connection and then went silent.
            await reader.read()
            return

        async def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())
            await writer.drain()

        await reply("220 sink.localhost ESMTP")
        recipients: list[str] = []
        try:
            while line := await reader.readline():
                command = line.decode(errors="replace").strip()
                verb = command[:4].upper()
                if verb == "EHLO":
                    await reply("250-sink.localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME")
                elif verb == "HELO":
                    await reply("250 sink.localhost")
                elif verb == "AUTH":
                    _, user, password = base64.b64decode(command.split()[2]).split(b"\0")
                    self.logins.append((user.decode(), password.decode()))
                    await reply("235 2.7.0 Authentication successful")
                elif verb == "DATA":
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    # One read up to the end marker, not one per line: a provider's
                    # parsing does not cost the sender's machine, so this one costs little.
                    try:
                        raw = b"\r\n" + await reader.readuntil(b"\r\n.\r\n")
                    except asyncio.IncompleteReadError:
                        break  # the client went away mid-message: nothing accepted
                    data = raw.replace(b"\r\n..", b"\r\n.")[2:-3]
                    await asyncio.sleep(self.delay)
                    if self.log_path:
                        with open(self.log_path, "a", encoding="utf-8") as log:
                            log.writelines(f"{time.time()} {to}\n" for to in recipients)
                    else:
                        self.messages.append(
                            message_from_bytes(bytes(data), policy=policy.default)
                        )
                        self.accepted_at.append(time.time())
                    recipients.clear()
                    await reply("250 2.0.0 Ok: queued")
                elif verb == "QUIT":
                    await reply("221 2.0.0 Bye")
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    if verb == "RCPT":
                        recipients.append(command.partition(":")[2].strip().strip("<>"))
                    await reply("250 2.1.0 Ok")
        finally:
            writer.close()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Run the SMTP sink as a process.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--log", required=True, help="file of '<time> <recipient>' lines")
    args = parser.parse_args()
    SmtpSink(delay=args.delay, port=args.port, log_path=args.log).start()
    threading.Event().wait()
