import { BlockList, isIP } from 'node:net';

/**
 * `node_allowed_ips` (docs/design.md R5.4): exact addresses and CIDR ranges, IPv4 and
 * IPv6. An empty list allows every caller.
 */
export interface IpAllowlist {
  readonly empty: boolean;
  allows(address: string | undefined): boolean;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is `10.0.0.1`. */
function normalise(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * Adds one entry to `list`, or says why it is not an address or range. The
 * configuration check and the list itself both go through here, so an entry
 * the check accepts can never fail when the node builds its list (an
 * IPv4-mapped `::ffff:127.0.0.1` once passed the check and then crashed the
 * node at start).
 */
function addEntry(list: BlockList, entry: string): string | undefined {
  const [raw = '', prefix, extra] = entry.split('/');
  if (extra !== undefined || isIP(raw) === 0) return `"${entry}" is not an IP address or CIDR range`;
  const address = normalise(raw);
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  try {
    if (prefix === undefined) {
      list.addAddress(address, type);
      return undefined;
    }
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (isIP(raw) === 6 ? 128 : 32)) return `"${entry}" has a prefix length outside 0-${isIP(raw) === 6 ? 128 : 32}`;
    // A mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps, so it matches the callers normalise() turns into IPv4.
    if (address !== raw) {
      if (bits < 96) return `"${entry}" reaches beyond the IPv4-mapped range ::ffff:0:0/96; write the IPv4 range instead`;
      list.addSubnet(address, bits - 96, 'ipv4');
    } else list.addSubnet(address, bits, type);
    return undefined;
  } catch (error) {
    return `"${entry}" is not usable: ${(error as Error).message}`;
  }
}

/** Why an entry is not a valid address or range, or `undefined` when it is. */
export function allowlistEntryProblem(entry: string): string | undefined {
  return addEntry(new BlockList(), entry);
}

/** The list of `entries`; throws on an entry `allowlistEntryProblem` refuses (configuration checks it first). */
export function createIpAllowlist(entries: readonly string[]): IpAllowlist {
  const list = new BlockList();
  for (const entry of entries) {
    const problem = addEntry(list, entry);
    if (problem) throw new Error(`node_allowed_ips: ${problem}`);
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
