import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Never called, whatever the configuration: link-local (cloud metadata at 169.254.169.254). */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');

/** Called only with WEBHOOK_ALLOW_PRIVATE_TARGETS: loopback, private, shared and unspecified ranges. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** An IPv6 address as its eight 16-bit groups (a trailing dotted quad and a zone allowed). */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? front
      : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return groups.length === 8 ? groups.map((g) => parseInt(g, 16)) : null;
}

/**
 * The IPv4 address an IPv6 address carries in the transition forms a network may route to it:
 * IPv4-compatible (::a.b.c.d), mapped (::ffff:a.b.c.d), translated (::ffff:0:a.b.c.d), NAT64
 * (64:ff9b::/96 and 64:ff9b:1::/48) and 6to4 (2002:aabb:ccdd::/48).
 */
function embeddedIpv4(address: string): string | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (g[0] === 0x2002) return quad(g[1]!, g[2]!);
  const last = quad(g[6]!, g[7]!);
  if (zeros(0, 5) && (g[5] === 0 || g[5] === 0xffff)) return last;
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return last;
  if (g[0] === 0x64 && g[1] === 0xff9b && (zeros(2, 6) || g[2] === 1)) return last;
  return null;
}

/** Why an address may not be called, or null when it may. */
export function blockedAddressReason(address: string, allowPrivate: boolean): string | null {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  // An IPv6 address carrying an IPv4 one is judged as both (found by the outside attack pass:
  // 64:ff9b::a9fe:a9fe reached for 169.254.169.254).
  const candidates: [string, 'ipv4' | 'ipv6'][] = [[address, family === 4 ? 'ipv4' : 'ipv6']];
  const carried = family === 6 ? embeddedIpv4(address) : null;
  if (carried) candidates.push([carried, 'ipv4']);
  for (const [ip, type] of candidates) {
    if (LINK_LOCAL.check(ip, type)) return `${address} is a link-local address`;
    if (!allowPrivate && PRIVATE.check(ip, type))
      return `${address} is a loopback or private address (WEBHOOK_ALLOW_PRIVATE_TARGETS is off)`;
  }
  return null;
}

export class BlockedTargetError extends Error {}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http(s).request: resolves the host and refuses when any address it resolves to
 * is blocked, so the address connected to is the address checked (no second resolution that DNS
 * rebinding could answer differently).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const { address } of addresses) {
        const reason = blockedAddressReason(address, allowPrivate);
        if (reason) return callback(new BlockedTargetError(`Blocked target ${hostname}: ${reason}`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} resolves to no address`), []);
      callback(null, first.address, first.family);
    });
  };
}

/** Refuses an IP literal that is blocked (a literal is never looked up, so `guardedLookup` would not see it). */
export function checkLiteralHost(hostname: string, allowPrivate: boolean): void {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 0) return;
  const reason = blockedAddressReason(bare, allowPrivate);
  if (reason) throw new BlockedTargetError(`Blocked target ${hostname}: ${reason}`);
}
