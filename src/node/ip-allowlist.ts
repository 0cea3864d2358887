import { BlockList, isIP } from 'node:net';

/**
 * `node_allowed_ips` (seed §5.4): exact addresses and CIDR ranges, IPv4 and
 * IPv6. An empty list allows every caller.
 */
export interface IpAllowlist {
  readonly empty: boolean;
  allows(address: string | undefined): boolean;
}

/** Why an entry is not a valid address or range, or `undefined` when it is. */
export function allowlistEntryProblem(entry: string): string | undefined {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (!address || family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR range`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefix) || bits > max) return `"${entry}" has a prefix length outside 0-${max}`;
  return undefined;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is `10.0.0.1`. */
function normalise(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export function createIpAllowlist(entries: readonly string[]): IpAllowlist {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(normalise(address), type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    empty: entries.length === 0,
    allows(address) {
      if (entries.length === 0) return true;
      if (!address) return false;
      const plain = normalise(address);
      const family = isIP(plain);
      if (family === 0) return false;
      return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
