import { createServer } from 'node:net';

/**
 * Ports below Linux's default ephemeral range (32768–60999): the kernel
 * hands those out as source ports of outgoing connections and to every
 * `listen(0)`, so a port picked there and bound a moment later (a process
 * starting) can be taken in between; one below it is only taken by a
 * process that asks for it by number.
 */
const LOW = 20_000;
const HIGH = 32_767;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port that is free right now (for processes that must keep their port across restarts). */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port between ${LOW} and ${HIGH}`);
}
