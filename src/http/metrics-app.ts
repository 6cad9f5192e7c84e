import { Hono } from 'hono';
import type { Metrics } from '../metrics.ts';

/**
 * The Prometheus endpoint, on a listener of its own (METRICS_HOST:METRICS_PORT, loopback by
 * default) and never on the API's: counters describe the whole service, so an agency must not
 * be able to read them. Serves `GET /metrics` and nothing else.
 */
export function createMetricsApp(metrics: Metrics): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  });
  app.notFound((c) => c.text('not found\n', 404));
  return app;
}
