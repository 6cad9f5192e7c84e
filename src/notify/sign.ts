import type { KeyRing } from '../crypto/key-ring.ts';

/**
 * Standard Webhooks signature with the service's Ed25519 key: `v1a,<base64 signature>` over
 * `id.timestamp.body`. Receivers verify it with the key published at /.well-known/jwks.json.
 */
export async function signWebhook(keys: KeyRing, id: string, timestamp: number, body: string): Promise<string> {
  const data = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  const signature = await crypto.subtle.sign({ name: 'Ed25519' }, keys.currentSigningKey.privateKey, data);
  return `v1a,${Buffer.from(signature).toString('base64')}`;
}
