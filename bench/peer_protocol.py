# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
"""The line protocol of the benchmarks' peers (bench/peer_process.h is the C++ side).

One command per line on stdin, one reply line on stdout: "ok <words>" or "error <why>" (an error keeps the
protocol alive, so the C++ side can report it and stop):

    make ARGS...        make(ARGS) builds the peer's models and inputs; reply "ok <case names>"
    threads N           torch.set_num_threads(N); reply "ok"
    time CASE REPS      run(CASE) once to warm up, then REPS timed runs; reply "ok <ms> <ms> ..."
    quit                exit
"""
import sys
import time
from typing import Callable, List

import torch


def serve(make: Callable[[List[str]], List[str]], run: Callable[[str], object]) -> None:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        try:
            if cmd == "quit":
                return
            if cmd == "make":
                reply = list(make(words[1:]))
            elif cmd == "threads":
                torch.set_num_threads(int(words[1]))
                reply = []
            elif cmd == "time":
                case, reps = words[1], int(words[2])
                run(case)  # warm-up
                reply = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    run(case)
                    reply.append(f"{(time.perf_counter() - t0) * 1e3:.6f}")
            else:
                raise ValueError(f"unknown command {cmd!r}")
            print("ok", *reply, flush=True)
        except Exception as e:  # noqa: BLE001  (any failure is a reply, not a crash of the peer)
            print("error", repr(e).replace("\n", " "), flush=True)
