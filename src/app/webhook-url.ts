import { BlockList, isIP } from 'node:net';
import { invalid } from './errors.ts';

/**
 * Where a webhook may point. The service posts to whatever URL an agency registers, from inside
 * its own network, so a URL must not reach the operator's private network, link-local services
 * or a cloud provider's metadata endpoint (server-side request forgery). An operator may allow
 * named hosts that live in such a range on purpose (BETROKKEN_WEBHOOK_ALLOWED_HOSTS).
 */

/** Development receivers: plain http is allowed here, and nowhere else. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 reaches the local host
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT; also Alibaba Cloud's metadata address
  ['169.254.0.0', 16], // link-local: AWS, GCP, Azure and OpenStack metadata
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['fc00::', 7], // unique local, AWS's IPv6 metadata address (fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Host names of cloud metadata services (they resolve to link-local addresses inside the cloud). */
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com']);

/** Whether a literal IP address (v4, v6, or v4-mapped v6) lies in a refused range. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return false;
  return blocked.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Normalises a host name for comparison: lower case, no trailing dot. */
export function normalHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

export function isAllowedHost(host: string, allowedHosts: readonly string[]): boolean {
  const h = normalHost(host);
  return allowedHosts.some((a) => normalHost(a) === h);
}

/**
 * Checks a webhook URL at registration: https (plain http only for exactly localhost, 127.0.0.1
 * or [::1]), no credentials, and no literal address in a private, link-local, metadata or other
 * refused range and no metadata host name, unless the operator allowed the host by name.
 * Returns the normalised URL; throws `invalid_webhook_url` naming what is wrong.
 */
export function checkWebhookUrl(url: string, allowedHosts: readonly string[] = []): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('invalid_webhook_url', 'the webhook URL is not a URL');
  }
  const loopback = LOOPBACK_HOSTS.has(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw invalid('invalid_webhook_url', 'webhook URLs must use https (http only on localhost, 127.0.0.1 or [::1])');
  }
  if (u.username || u.password) throw invalid('invalid_webhook_url', 'a webhook URL must not carry credentials');
  if (isAllowedHost(u.hostname, allowedHosts)) return u.toString();
  if (isBlockedAddress(u.hostname)) {
    throw invalid('webhook_address_refused', `${u.hostname} is a private, link-local or reserved address; webhooks must reach a public host`);
  }
  if (METADATA_HOSTS.has(normalHost(u.hostname))) {
    throw invalid('webhook_address_refused', `${u.hostname} is a cloud metadata host; webhooks must reach a public host`);
  }
  return u.toString();
}
