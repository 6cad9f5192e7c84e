import { createHmac } from 'node:crypto';
import type { KeyRing } from '../crypto/key-ring.ts';

/**
 * Standard Webhooks signatures over `id.timestamp.body`: `v1a,<base64>` with the service's
 * Ed25519 key (receivers verify it with /.well-known/jwks.json), and, where the agency chose a
 * secret, first `v1,<base64>`, HMAC-SHA256 with it, which the stock `standardwebhooks` libraries
 * verify. Several signatures are separated by a space, as the specification allows.
 */
export async function signWebhook(keys: KeyRing, id: string, timestamp: number, body: string, secret: Uint8Array | null = null): Promise<string> {
  const content = `${id}.${timestamp}.${body}`;
  const signature = await crypto.subtle.sign({ name: 'Ed25519' }, keys.currentSigningKey.privateKey, new TextEncoder().encode(content));
  const v1a = `v1a,${Buffer.from(signature).toString('base64')}`;
  if (!secret) return v1a;
  return `v1,${createHmac('sha256', secret).update(content).digest('base64')} ${v1a}`;
}
