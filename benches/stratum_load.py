#!/usr/bin/env python3
"""Stratum load: accepted shares per second over TCP, and RSS with many idle
sessions. Driven by benches/stratum.sh, which starts the service and prepares a
proof; this script only speaks Stratum V1 (standard library only).

  stratum_load.py shares HOST PORT USERNAME CONNECTIONS SECONDS
  stratum_load.py idle   HOST PORT COUNT
"""
import asyncio
import hashlib
import json
import struct
import sys
import time


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def header(job, extranonce1: bytes, extranonce2: bytes, ntime: int, nonce: int) -> bytes:
    coinbase = bytes.fromhex(job["coinb1"]) + extranonce1 + extranonce2 + bytes.fromhex(job["coinb2"])
    root = sha256d(coinbase)
    prev = bytes.fromhex(job["prevhash"])
    prev = b"".join(prev[i:i + 4][::-1] for i in range(0, 32, 4))  # undo stratum's word swap
    return struct.pack("<I", job["version"]) + prev + root + struct.pack("<III", ntime, job["nbits"], nonce)


def target(difficulty: float) -> int:
    return int((0xFFFF << 208) / difficulty)


async def session(host, port, username, deadline, counts):
    reader, writer = await asyncio.open_connection(host, port)
    next_id = 0

    async def call(method, params):
        nonlocal next_id
        next_id += 1
        my_id = next_id
        writer.write((json.dumps({"id": my_id, "method": method, "params": params}) + "\n").encode())
        await writer.drain()
        while True:
            message = json.loads(await reader.readline())
            if message.get("id") == my_id:
                return message
            notes.append(message)

    notes = []
    subscribed = await call("mining.subscribe", ["stratum-load/1"])
    extranonce1 = bytes.fromhex(subscribed["result"][1])
    await call("mining.authorize", [username, "x"])
    difficulty, job = None, None
    while job is None or difficulty is None:
        for message in notes:
            if message.get("method") == "mining.set_difficulty":
                difficulty = message["params"][0]
            if message.get("method") == "mining.notify":
                p = message["params"]
                job = {"id": p[0], "prevhash": p[1], "coinb1": p[2], "coinb2": p[3], "version": int(p[5], 16),
                       "nbits": int(p[6], 16), "ntime": int(p[7], 16)}
        notes.clear()
        if job is None or difficulty is None:
            notes.append(json.loads(await reader.readline()))
    limit = target(difficulty)
    extranonce2 = struct.pack(">I", hash(asyncio.current_task()) & 0xFFFFFFFF)
    nonce = 0
    while time.monotonic() < deadline:
        nonce += 1
        h = sha256d(header(job, extranonce1, extranonce2, job["ntime"], nonce))
        if int.from_bytes(h, "little") > limit:
            continue
        answer = await call("mining.submit", [username, job["id"], extranonce2.hex(), f"{job['ntime']:08x}", f"{nonce:08x}"])
        counts["accepted" if answer.get("result") is True else "rejected"] += 1
    writer.close()


async def shares(host, port, username, connections, seconds):
    counts = {"accepted": 0, "rejected": 0}
    start = time.monotonic()
    await asyncio.gather(*(session(host, port, username, start + seconds, counts) for _ in range(connections)))
    elapsed = time.monotonic() - start
    print(f"accepted_shares={counts['accepted']} rejected={counts['rejected']} seconds={elapsed:.1f} "
          f"accepted_per_second={counts['accepted'] / elapsed:.0f}")


async def idle(host, port, count):
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection(host, port)
        writers.append(writer)
    print(f"idle_sessions={len(writers)}", flush=True)
    await asyncio.sleep(float(sys.argv[5]) if len(sys.argv) > 5 else 5)
    for writer in writers:
        writer.close()


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "shares":
        asyncio.run(shares(host, port, sys.argv[4], int(sys.argv[5]), float(sys.argv[6])))
    else:
        asyncio.run(idle(host, port, int(sys.argv[4])))
