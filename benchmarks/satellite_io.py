"""The microphone and the speaker of a Wyoming satellite under test (its --mic/--snd-command).

    python benchmarks/satellite_io.py mic CONTROL_DIR   # raw 16 kHz mono s16le on stdout
    python benchmarks/satellite_io.py snd LOG_FILE      # raw audio on stdin, logged

``mic`` plays room tone in real time, as a microphone delivers it (each 20 ms chunk is written
when its last sample would have been captured). When a file ``*.pcm`` appears in CONTROL_DIR it
plays that instead, once, then deletes it, and appends ``<name> <monotonic start>`` to
``CONTROL_DIR/played.log``: sample ``t`` of the clip was "spoken" at start + t.

``snd`` reads what the satellite plays and appends ``<monotonic> <bytes> <peak>`` to LOG_FILE
for every read, so the benchmark knows when the first reply audio reached the speaker.

Both use only the standard library (they run under the satellite's own venv) and stop when
their pipe closes (mic: after at most ``MAX_SECONDS``).
"""

from __future__ import annotations

import array
import os
from pathlib import Path
import random
import sys
import time

RATE = 16000
CHUNK_SAMPLES = RATE // 50  # 20 ms
MAX_SECONDS = 3600.0


def _room_tone(samples: int, rng: random.Random) -> bytes:
    return array.array("h", (int(rng.gauss(0.0, 30.0)) for _ in range(samples))).tobytes()


def microphone(control: Path) -> None:
    out = sys.stdout.buffer
    rng = random.Random(0)
    tone = [_room_tone(CHUNK_SAMPLES, rng) for _ in range(16)]
    started = time.monotonic()
    chunk = 0
    clip: bytes = b""
    offset = 0
    while time.monotonic() - started < MAX_SECONDS:
        if offset >= len(clip):
            clip, offset = b"", 0
            pending = sorted(control.glob("*.pcm"))
            if pending:
                clip = pending[0].read_bytes()
                pending[0].unlink()
                # This chunk's first sample is captured now; the clip starts here.
                start = started + chunk * CHUNK_SAMPLES / RATE
                with (control / "played.log").open("a", encoding="utf-8") as log:
                    log.write(f"{pending[0].stem} {start:.6f}\n")
        if clip:
            data = clip[offset : offset + CHUNK_SAMPLES * 2]
            data += tone[0][: CHUNK_SAMPLES * 2 - len(data)]
            offset += CHUNK_SAMPLES * 2
        else:
            data = tone[chunk % len(tone)]
        chunk += 1
        # Delivered when its last sample has been captured, as a sound card delivers it.
        if (wait := started + chunk * CHUNK_SAMPLES / RATE - time.monotonic()) > 0:
            time.sleep(wait)
        try:
            out.write(data)
            out.flush()
        except BrokenPipeError:
            return


def speaker(log_path: Path) -> None:
    source = sys.stdin.buffer
    with log_path.open("a", encoding="utf-8") as log:
        while data := source.read1(65536):
            samples = array.array("h", data[: len(data) // 2 * 2])
            peak = max((abs(s) for s in samples), default=0)
            log.write(f"{time.monotonic():.6f} {len(data)} {peak}\n")
            log.flush()


def main() -> None:
    mode, path = sys.argv[1], Path(sys.argv[2])
    try:
        if mode == "mic":
            microphone(path)
        elif mode == "snd":
            speaker(path)
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    except KeyboardInterrupt:
        pass
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
