import fs from 'node:fs';
import autocannon from 'autocannon';

/**
 * The load generator, run as its own process so it does not share a core's event loop with the
 * service. Reads a plan (JSON file), prints one JSON result line.
 */
interface Plan {
  url: string;
  /** Several instances: autocannon spreads the connections over them, round-robin. */
  urls?: string[];
  method: 'GET' | 'POST';
  path: string;
  connections: number;
  duration?: number;
  amount?: number;
  /** Rotated per request: bodies (as strings), and bearer tokens or form bodies. */
  bodies?: string[];
  tokens?: string[];
  contentType?: string;
}

const plan = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as Plan;
let i = 0;
const result = await autocannon({
  // autocannon takes several URLs and spreads the connections over them (its README); its types say one.
  url: (plan.urls?.length ? plan.urls : plan.url) as string,
  connections: plan.connections,
  ...(plan.amount ? { amount: plan.amount } : { duration: plan.duration ?? 10 }),
  requests: [
    {
      method: plan.method,
      path: plan.path,
      setupRequest: (req) => {
        const k = i++;
        const headers = { ...(req.headers ?? {}) } as Record<string, string>;
        if (plan.tokens?.length) headers.authorization = `Bearer ${plan.tokens[k % plan.tokens.length]}`;
        if (plan.contentType) headers['content-type'] = plan.contentType;
        return { ...req, headers, ...(plan.bodies?.length ? { body: plan.bodies[k % plan.bodies.length] } : {}) };
      },
    },
  ],
});
console.log(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
