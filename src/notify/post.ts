import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkWebhookUrl, isAllowedHost, isBlockedAddress } from '../app/webhook-url.ts';
import { DomainError } from '../app/errors.ts';

/** Why an attempt did not reach the receiver because of where it points. */
export const DESTINATION_REFUSED = 'destination refused';

/** Resolves a host name to all its addresses (dns.lookup by default; tests pass their own). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;
const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true });

/**
 * A socket lookup that refuses a host name resolving to an address in a refused range (private,
 * link-local, metadata...), unless the host is trusted. Being the socket's own lookup, the address
 * checked is the address connected to, so a name that resolves differently on the second ask (DNS
 * rebinding) gains nothing.
 */
function guardedLookup(resolve: Resolve, trusted: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const family = (options as { family?: number | string }).family;
        const addresses = family === 4 || family === 6 ? found.filter((a) => a.family === family) : found;
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        if (!trusted && addresses.some((a) => isBlockedAddress(a.address))) {
          return callback(Object.assign(new Error(`${hostname} resolves to a refused address`), { code: 'EREFUSEDDESTINATION' }), '', 0);
        }
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/**
 * POSTs one webhook: redirects are not followed (the registered URL is the only destination),
 * the whole exchange up to the response head must finish within `timeoutMs`, and the destination
 * is checked again, literally and as resolved, unless the operator allowed its host by name.
 * Resolves with null on a 2xx answer, else with a short reason for the delivery record.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; allowedHosts: readonly string[]; resolve?: Resolve },
): Promise<string | null> {
  try {
    checkWebhookUrl(url, opts.allowedHosts);
  } catch (err) {
    if (err instanceof DomainError) return DESTINATION_REFUSED;
    throw err;
  }
  const u = new URL(url);
  const trusted = isAllowedHost(u.hostname, opts.allowedHosts);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const request = (u.protocol === 'https:' ? https : http).request(
        u,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: false,
          signal,
          lookup: guardedLookup(opts.resolve ?? systemResolve, trusted),
        },
        (res) => {
          // The answer's body is never read: a receiver cannot keep the worker busy with it.
          res.destroy();
          resolve(res.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    return status >= 200 && status < 300 ? null : `HTTP ${status}`;
  } catch (err) {
    if (signal.aborted) return 'timeout';
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EREFUSEDDESTINATION') return DESTINATION_REFUSED;
    return code ?? (err as Error).name ?? 'network error';
  }
}
