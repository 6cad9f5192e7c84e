import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createHarness, type Harness, type TestAgency } from './harness.ts';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

/**
 * A real webhook receiver on loopback. `respond` decides each answer (status, delay); it can be
 * stopped and started again on the same port to play a receiver that is down for a while.
 */
export class Receiver {
  readonly received: Received[] = [];
  respond: (r: Received) => { status: number; delayMs?: number; location?: string } = () => ({ status: 204 });
  private server: http.Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const r: Received = {
          id: String(req.headers['webhook-id']),
          timestamp: String(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body,
        };
        this.received.push(r);
        const { status, delayMs = 0, location } = this.respond(r);
        setTimeout(() => {
          res.writeHead(status, location ? { location } : {});
          res.end();
        }, delayMs);
      });
    });
    this.server.keepAliveTimeout = 1;
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/betrokken`;
  }
}

/**
 * Verifies a Standard Webhooks v1a signature with the service's published JWK Set, using
 * @noble/curves: an Ed25519 implementation independent of the one that signed.
 */
export function verifyStandardWebhook(jwks: { keys: Array<{ x?: string; crv?: string }> }, r: Received): boolean {
  const message = new TextEncoder().encode(`${r.id}.${r.timestamp}.${r.body}`);
  return r.signature.split(' ').some((part) => {
    const [version, sig] = part.split(',');
    if (version !== 'v1a' || !sig) return false;
    return jwks.keys.some((k) => k.crv === 'Ed25519' && k.x && ed25519.verify(Buffer.from(sig, 'base64'), message, Buffer.from(k.x, 'base64url')));
  });
}

/**
 * A region whose school takes its notices by webhook at a receiver of its own, with a GP to match
 * it and the WIJ team that coordinates: the setting of the webhook tests.
 */
export async function webhookRegion(): Promise<{ receiver: Receiver; h: Harness; school: TestAgency; gp: TestAgency }> {
  const receiver = await new Receiver().start();
  const h = await createHarness();
  const school = await h.agency('school', { webhookUrl: receiver.url });
  const gp = await h.agency('gp');
  await h.agency('wij', { districts: ['selwerd'] });
  return { receiver, h, school, gp };
}
