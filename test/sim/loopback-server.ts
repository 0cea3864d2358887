import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Listening {
  port: number;
  /** 'http://HOST:PORT' */
  url: string;
  /** Closes the server and destroys every socket, held ones included (a 'timeout' fault holds its socket open). */
  close(): Promise<void>;
}

/**
 * Listens the way every simulator does: keep-alive connections like an
 * exchange's, and every socket tracked so close() never waits on one.
 */
export async function listenTracked(server: Server, host: string, port: number): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
