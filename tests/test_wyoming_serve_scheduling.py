"""The serve path asks Linux to wake the event loop's thread promptly (a short EEVDF slice).

Read back from the kernel itself (/proc/.../sched), on a thread of this process and on a real
TTS server started from its command line.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import threading

from tests.wyoming_fixtures import server_process, synthesize
from wyoming_servers.serve import _EVENT_LOOP_SLICE_NS, ask_for_a_short_time_slice


def _kernel_honours_custom_slices() -> bool:
    """EEVDF's per-thread slice (sched_attr.sched_runtime for SCHED_OTHER) came in Linux 6.12;
    older kernels accept the call and keep the default slice, and that is checked too."""
    found = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return found is not None and (int(found[1]), int(found[2])) >= (6, 12)


def _slice_ns(task_dir: Path) -> int | None:
    """The time slice the scheduler gives one thread (``se.slice``, nanoseconds); None on a
    kernel that does not show one (before EEVDF, 6.6)."""
    for line in (task_dir / "sched").read_text().splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "se.slice":
            return int(value)
    return None


def _own_slice_ns() -> int:
    return _slice_ns(Path(f"/proc/self/task/{threading.get_native_id()}"))


def test_the_calling_thread_gets_the_short_slice_and_threads_it_starts_do_not() -> None:
    seen: dict[str, int | bool] = {}

    def event_loop_thread() -> None:
        seen["default"] = _own_slice_ns()
        seen["applied"] = ask_for_a_short_time_slice()
        seen["after"] = _own_slice_ns()
        worker = threading.Thread(target=lambda: seen.update(worker=_own_slice_ns()))
        worker.start()
        worker.join()

    # This thread's own slice, whatever it is (an in-process server of an earlier test may have
    # shortened it): the call on another thread must leave it as it was.
    before = _own_slice_ns()
    thread = threading.Thread(target=event_loop_thread)
    thread.start()
    thread.join()
    if _kernel_honours_custom_slices():
        assert seen["applied"] is True
        assert seen["after"] == _EVENT_LOOP_SLICE_NS < seen["default"]
    else:  # best effort: the thread keeps the default slice, nothing breaks
        assert seen["after"] == seen["default"]
    # Threads started later (piper's synthesis) are reset to the default on creation.
    assert seen["worker"] == seen["default"]
    assert _own_slice_ns() == before  # other threads of the process are untouched


async def test_a_server_from_its_command_line_runs_only_its_event_loop_on_the_short_slice(
    tmp_path: Path,
) -> None:
    with server_process(
        "wyoming_servers.tts",
        "--no-phrases",
        "--no-disk-cache",
        log_path=tmp_path / "tts.log",
    ) as server:
        # A new sentence: the synthesis threads start now, from the event loop's thread.
        reply = await synthesize(server.address, "Seven plus five is twelve, well done.")
        tasks = Path(f"/proc/{server.process.pid}/task")
        slices = {int(task.name): _slice_ns(task) for task in tasks.iterdir()}
    assert reply.audio.duration_seconds > 1.0
    expected = (
        _EVENT_LOOP_SLICE_NS if _kernel_honours_custom_slices() else slices[server.process.pid]
    )
    assert slices.pop(server.process.pid) == expected
    assert len(slices) >= 2  # piper's synthesis threads and onnxruntime's
    assert _EVENT_LOOP_SLICE_NS not in slices.values()
