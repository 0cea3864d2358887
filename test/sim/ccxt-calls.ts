import type { Exchange } from 'ccxt';

/**
 * What the simulator tests need around a ccxt instance: the requests it
 * sends, and what its calls end in.
 */
export interface Sent {
  method: string;
  url: string;
  body: string | undefined;
}

/** Records every request `exchange` sends into `sent`, leaving the call itself as it is. */
export function recordRequests(exchange: Exchange, sent: Sent[] | undefined): void {
  if (!sent) return;
  const fetch = exchange.fetch.bind(exchange);
  exchange.fetch = (url: string, method?: string, headers?: unknown, body?: string) => {
    sent.push({ method: method ?? 'GET', url, body });
    return fetch(url, method, headers, body);
  };
}

/** The ccxt error class a call ends in ('resolved' if it does not throw). */
export async function errorClass(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'resolved';
  } catch (error) {
    return (error as Error).constructor.name;
  }
}

/** The error a call ends in; fails the test if it does not throw. */
export async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

export function idOf(order: { id?: string | undefined }): string {
  if (!order.id) throw new Error('the order has no id');
  return order.id;
}
