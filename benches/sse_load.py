#!/usr/bin/env python3
"""Opens STREAMS Server-Sent Event streams (standard library only) to one
instance, spread over the given access tokens, waits until every one answered
200, signals readiness on stdout, then records for each `data:` line carrying
`sent_at_ms` how long after that moment it arrived. Prints the latency p50/p99
(ms) and how many events arrived when it gets SIGTERM or after DURATION s.

    sse_load.py HOST PORT STREAMS DURATION TOKEN [TOKEN...]
"""
import asyncio
import json
import signal
import sys
import time

host, port, streams, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
tokens = sys.argv[5:]
latencies = []
opened = 0


async def stream(token, ready):
    global opened
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /v1/me/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise SystemExit(f"stream refused: {status!r}")
    opened += 1
    if opened == streams:
        ready.set()
    async for line in reader:
        if line.startswith(b"data:"):
            data = json.loads(line[5:])
            sent = data.get("data", {}).get("sent_at_ms")
            if sent is not None:
                latencies.append(time.time() * 1000 - sent)


async def main():
    ready = asyncio.Event()
    tasks = [asyncio.create_task(stream(tokens[i % len(tokens)], ready)) for i in range(streams)]
    await asyncio.wait_for(ready.wait(), timeout=300)
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=duration)
    except asyncio.TimeoutError:
        pass
    for task in tasks:
        task.cancel()
    latencies.sort()
    if latencies:
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"events={len(latencies)} p50_ms={p50:.1f} p99_ms={p99:.1f}", flush=True)
    else:
        print("events=0", flush=True)


asyncio.run(main())
