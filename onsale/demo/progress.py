"""The live view of a running demo: a rich Live panel on a terminal, a plain line every few
seconds otherwise (a log file or CI), from the venue's stats and the driver's own counters.

It only renders; the figures come from `SaleWatch` samples, the drain's backlog readings and
the `DriverRecord`. The panel is redrawn on the event loop at each new reading (once a second),
never from rich's refresh thread, which would read the record while the fans change it.
"""

import bisect
import time
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table

from onsale.demo.backlogs import Backlog
from onsale.demo.record import DriverRecord
from onsale.demo.sale_watch import Sample

PLAIN_LINE_INTERVAL_S = 5.0
RATE_WINDOW_S = 5.0


def recent_rate(moments_s: list[float], now_s: float, window_s: float = RATE_WINDOW_S) -> float:
    """Events a second over the last `window_s`, from ascending moments."""
    return (len(moments_s) - bisect.bisect_left(moments_s, now_s - window_s)) / window_s


class Progress:
    def __init__(self, console: Console, record: DriverRecord, *, fans: int) -> None:
        self._console = console
        self._record = record
        self._fans = fans
        self._phase = "starting"
        self._started_at = time.monotonic()
        self._sample: Sample | None = None
        self._backlog: Backlog | None = None
        self._drain_waited_s = 0.0
        self._live: Live | None = None
        self._last_plain_line_at = float("-inf")

    def __enter__(self) -> "Progress":
        if self._console.is_terminal:
            self._live = Live(
                get_renderable=self.render,
                console=self._console,
                auto_refresh=False,
                transient=False,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
        else:
            self._print_plain_line()

    def set_phase(self, phase: str, *, started_at: float | None = None) -> None:
        self._phase = phase
        if started_at is not None:
            self._started_at = started_at
        self._show(force=True)

    def on_sample(self, sample: Sample) -> None:
        self._sample = sample
        self._show()

    def on_backlog(self, backlog: Backlog, waited_s: float) -> None:
        self._backlog = backlog
        self._drain_waited_s = waited_s
        self._show()

    def render(self) -> Panel:
        elapsed_s = time.monotonic() - self._started_at
        sample = self._sample
        grid = Table.grid(padding=(0, 3))
        for _ in range(4):
            grid.add_column(justify="left")
        record = self._record
        holds_per_s = recent_rate(record.hold_acknowledged_at_s, elapsed_s)
        columns = [
            self._queue_lines(sample),
            self._inventory_lines(sample),
            self._order_lines(sample),
            self._aftermath_lines(sample),
        ]
        for row in zip(*columns, strict=True):
            grid.add_row(*row)
        sold = sample.sold if sample else 0
        capacity = sample.capacity if sample else 0
        bar = Table.grid(padding=(0, 2))
        bar.add_row(
            ProgressBar(total=max(1, capacity), completed=sold, width=60),
            f"{sold / max(1, capacity):.0%} sold",
        )
        fans = (
            f"fans {record.fans_arrived:,}/{self._fans:,} joined · "
            f"{record.fans_admitted:,} admitted · {record.fans_done:,} done"
        )
        traffic = (
            f"holds {len(record.hold_acknowledged_at_s):,} ({holds_per_s:,.0f}/s) · "
            f"requests {record.count_answers():,} · 5xx or no answer "
            f"{record.count_answers(server_errors=True):,}"
        )
        title = f"onsale demo · {self._phase} · {elapsed_s:,.0f} s"
        return Panel(Group(grid, bar, fans, traffic), title=title, title_align="left")

    @staticmethod
    def _queue_lines(sample: Sample | None) -> list[str]:
        if sample is None:
            return ["[b]waiting room[/b]", "", "", ""]
        return [
            "[b]waiting room[/b]",
            f"pre-queue {sample.pre_queue:,}",
            f"waiting   {sample.waiting:,}",
            f"admitted  {sample.admitted:,}",
        ]

    @staticmethod
    def _inventory_lines(sample: Sample | None) -> list[str]:
        if sample is None:
            return ["[b]inventory[/b]", "", "", ""]
        return [
            "[b]inventory[/b]",
            f"sold      {sample.sold:,} / {sample.capacity:,}",
            f"held      {sample.held:,}",
            f"available {sample.available:,}",
        ]

    @staticmethod
    def _order_lines(sample: Sample | None) -> list[str]:
        if sample is None:
            return ["[b]orders[/b]", "", "", ""]
        return [
            "[b]orders[/b]",
            f"paid     {sample.paid_orders:,}",
            f"declined {sample.failed_orders:,}",
            "",
        ]

    def _aftermath_lines(self, sample: Sample | None) -> list[str]:
        if self._backlog is not None:
            backlog = self._backlog
            return [
                f"[b]after the sale[/b] ({self._drain_waited_s:,.0f} s)",
                f"minted {backlog.minted:,} · pending {backlog.mints_pending:,}",
                f"emails {backlog.emails_sent:,} · pending {backlog.emails_pending:,}",
                f"failed {backlog.mints_failed:,} mints, {backlog.emails_failed:,} emails",
            ]
        if sample is None:
            return ["[b]after the sale[/b]", "", "", ""]
        return [
            "[b]after the sale[/b]",
            f"minted  {sample.minted:,}",
            f"pending {sample.mints_pending:,}",
            f"emails  {sample.emails:,}",
        ]

    def _show(self, *, force: bool = False) -> None:
        """Redraw the panel, or print a plain line if the last one is old enough or `force`."""
        if self._live is not None:
            self._live.refresh()
            return
        now = time.monotonic()
        if force or now - self._last_plain_line_at >= PLAIN_LINE_INTERVAL_S:
            self._last_plain_line_at = now
            self._print_plain_line()

    def _print_plain_line(self) -> None:
        elapsed_s = time.monotonic() - self._started_at
        record, sample = self._record, self._sample
        parts = [f"[{elapsed_s:6.0f} s] {self._phase}"]
        if sample is not None:
            parts.append(
                f"queue {sample.pre_queue + sample.waiting:,} waiting, {sample.admitted:,} "
                f"admitted · sold {sample.sold:,}/{sample.capacity:,}, held {sample.held:,} · "
                f"minted {sample.minted:,} · emails {sample.emails:,}"
            )
        holds_per_s = recent_rate(record.hold_acknowledged_at_s, elapsed_s)
        parts.append(
            f"fans {record.fans_arrived:,} joined, {record.fans_done:,} done · "
            f"{holds_per_s:,.0f} holds/s"
        )
        if self._backlog is not None:
            parts.append(
                f"backlog: {self._backlog.mints_pending:,} mints, "
                f"{self._backlog.emails_pending:,} emails"
            )
        self._console.print(" · ".join(parts), highlight=False, markup=False, soft_wrap=True)
