"""The embedded SMTP sink (embedded/smtp_sink.py) as our child on a loopback port, its messages
under one directory; a sink a crashed run left there is stopped and replaced."""

import pathlib
import signal
import sys

from embedded.child_processes import processes_running, stop_leftovers
from embedded.part import EmbeddedPart
from embedded.smtp_sink import SINK_HOST, answers_smtp

SMTP_SINK_LOG_FILE_NAME = "smtp_sink.log"


class EmbeddedSmtpSink(EmbeddedPart):
    """The SMTP sink (embedded/smtp_sink.py) on `port`, its messages under `directory`."""

    name = "smtp"
    stop_signal = signal.SIGTERM

    def __init__(self, directory: pathlib.Path, port: int) -> None:
        super().__init__(directory.resolve() / SMTP_SINK_LOG_FILE_NAME)
        self._directory = directory.resolve()
        self._port = port

    def start(self) -> str:
        """Start the sink and return its URL once it answers SMTP."""
        self._directory.mkdir(parents=True, exist_ok=True)
        stop_leftovers(
            self.name,
            processes_running("embedded.smtp_sink", self._directory),
            self.stop_signal,
        )
        self._launch(
            [
                sys.executable,
                "-m",
                "embedded.smtp_sink",
                "--port",
                str(self._port),
                "--directory",
                str(self._directory),
            ]
        )
        self._wait_until(lambda: answers_smtp(self._port))
        return f"smtp://{SINK_HOST}:{self._port}"
