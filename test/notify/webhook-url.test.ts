import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { setAgencyWebhook } from '../../src/app/agencies.ts';
import { checkWebhookUrl } from '../../src/app/webhook-url.ts';
import { createLogger } from '../../src/log.ts';
import { deliverDue } from '../../src/notify/delivery.ts';
import { DESTINATION_REFUSED, postWebhook } from '../../src/notify/post.ts';
import { listDeliveries } from '../../src/store/notices.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';
import { Receiver } from '../support/receiver.ts';

const code = (url: string, allowed: string[] = []) => {
  try {
    checkWebhookUrl(url, allowed);
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('webhook URLs at registration', () => {
  describe.each([
    ['https://hooks.school.example/betrokken', 'ok'],
    ['http://localhost:8080/hook', 'ok'],
    ['http://127.0.0.1:8080/hook', 'ok'],
    ['http://[::1]:8080/hook', 'ok'],
    ['https://8.8.8.8/hook', 'ok'],
    // plain http anywhere but exactly the three loopback names
    ['http://hooks.school.example/hook', 'invalid_webhook_url'],
    ['http://127.0.0.2/hook', 'invalid_webhook_url'],
    ['http://localhost.example.org/hook', 'invalid_webhook_url'],
    ['ftp://hooks.school.example/hook', 'invalid_webhook_url'],
    ['https://user:pw@hooks.school.example/hook', 'invalid_webhook_url'],
    ['not a url', 'invalid_webhook_url'],
    // private, link-local, shared, reserved and metadata addresses
    ['https://10.1.2.3/hook', 'webhook_address_refused'],
    ['https://172.16.0.1/hook', 'webhook_address_refused'],
    ['https://172.31.255.255/hook', 'webhook_address_refused'],
    ['https://192.168.1.10/hook', 'webhook_address_refused'],
    ['https://169.254.169.254/latest/meta-data', 'webhook_address_refused'],
    ['https://100.64.0.1/hook', 'webhook_address_refused'],
    ['https://100.100.100.200/hook', 'webhook_address_refused'],
    ['https://0.0.0.0/hook', 'webhook_address_refused'],
    ['https://[fd00:ec2::254]/hook', 'webhook_address_refused'],
    ['https://[fc00::1]/hook', 'webhook_address_refused'],
    ['https://[fe80::1]/hook', 'webhook_address_refused'],
    ['https://[::ffff:169.254.169.254]/hook', 'webhook_address_refused'],
    ['https://2852039166/hook', 'webhook_address_refused'], // 169.254.169.254 as one decimal number
    ['https://0xa9.0xfe.0xa9.0xfe/hook', 'webhook_address_refused'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'webhook_address_refused'],
    ['https://METADATA.google.internal./x', 'webhook_address_refused'],
    ['https://instance-data/latest', 'webhook_address_refused'],
    // neighbours of refused ranges stay open
    ['https://172.32.0.1/hook', 'ok'],
    ['https://100.128.0.1/hook', 'ok'],
    ['https://169.255.0.1/hook', 'ok'],
  ])('%s', (url, expected) => {
    it(`is ${expected}`, () => expect(code(url)).toBe(expected));
  });

  it('an operator may allow a named host, never an address', () => {
    expect(code('https://metadata.google.internal/x', ['metadata.google.internal'])).toBe('ok');
    expect(code('https://10.1.2.3/hook', ['metadata.google.internal'])).toBe('webhook_address_refused');
  });
});

describe('webhook destinations at delivery', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  /** A TCP listener on loopback that counts connections (0.0.0.0 reaches it: a refused address). */
  async function listener(): Promise<{ port: number; connections: () => number }> {
    let count = 0;
    const server = net.createServer((socket) => {
      count++;
      socket.destroy();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as net.AddressInfo).port, connections: () => count };
  }

  const post = (url: string, resolved: string, allowedHosts: string[] = []) =>
    postWebhook(url, { 'content-type': 'application/json' }, '{}', {
      timeoutMs: 2_000,
      allowedHosts,
      resolve: async () => [{ address: resolved, family: net.isIP(resolved) as 4 | 6 }],
    });

  it('refuses a host name that resolves to a refused address, without connecting', async () => {
    const target = await listener();
    expect(await post(`https://hooks.school.example:${target.port}/x`, '0.0.0.0')).toBe(DESTINATION_REFUSED);
    expect(await post(`https://hooks.school.example:${target.port}/x`, '10.20.30.40')).toBe(DESTINATION_REFUSED);
    expect(await post(`https://hooks.school.example:${target.port}/x`, 'fe80::1')).toBe(DESTINATION_REFUSED);
    expect(target.connections()).toBe(0);
  });

  it('connects to a host the operator allowed by name, wherever it resolves', async () => {
    const target = await listener();
    const error = await post(`https://receiver.corp.example:${target.port}/x`, '0.0.0.0', ['receiver.corp.example']);
    expect(error).not.toBe(DESTINATION_REFUSED); // the TLS handshake fails: the listener speaks no TLS
    expect(target.connections()).toBe(1);
  });

  it('does not deliver to a refused address stored before these rules, and logs why', async () => {
    const receiver = await new Receiver().start();
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (c, _e, done) => (lines.push(...String(c).split('\n').filter(Boolean).map((l) => JSON.parse(l))), done()) });
    const h = await createHarness({ logger: createLogger('info', sink) });
    try {
      const school = await h.agency('school', { webhookUrl: receiver.url });
      const gp = await h.agency('gp');
      await h.agency('wij', { districts: ['selwerd'] });
      await h.run('update agencies set webhook_url = ? where id = ?', 'https://169.254.169.254/latest/meta-data', school.id);
      await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(1)) });
      await h.call('POST', '/v1/signals', { token: await h.token(gp), body: signalBody(validBsn(1)) });
      expect(await deliverDue(h.deps, { timeoutMs: 1_000, retryWindowMs: 3_600_000, backoffMs: 1_000, concurrency: 2 })).toMatchObject({ delivered: 0, retried: 1 });
      expect((await h.store.transaction(async (tx) => listDeliveries(tx, { agencyId: school.id })))[0]).toMatchObject({ lastError: DESTINATION_REFUSED });
      expect(lines.find((l) => l.msg?.toString().startsWith('webhook destination refused'))).toMatchObject({ agencyId: school.id, host: '169.254.169.254' });
      expect(receiver.received).toHaveLength(0);
      // Registering it again through the use case is refused outright.
      await expect(setAgencyWebhook(h.deps, school.id, 'https://169.254.169.254/x')).rejects.toThrow(expect.objectContaining({ code: 'webhook_address_refused' }));
    } finally {
      await receiver.stop();
    }
  });
});
