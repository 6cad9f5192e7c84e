import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from './store/db.ts';
import { deliveryCounts } from './store/notices.ts';
import type { DeliveryStats } from './notify/delivery.ts';

/**
 * Prometheus metrics of one service instance: requests, webhook delivery, jobs. Served only on
 * the separate metrics listener. Nothing here counts notices by type or recipient: a notice is
 * written for parties a caller may not see, so such a counter would tell a school whether Veilig
 * Thuis holds the BSN it just registered. Notices appear only by webhook delivery state.
 */
export interface Metrics {
  registry: Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  recordDelivery(stats: DeliveryStats): void;
  recordJob(job: string, items: number): void;
}

export function createMetrics(store: Pick<Store, 'reader'>): Metrics {
  const registry = new Registry();
  const requests = new Histogram({
    name: 'betrokken_http_request_duration_seconds',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'betrokken_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome (delivered, retried, failed)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'betrokken_notices_delivery',
    help: 'Notices by webhook delivery state (pending = queued)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await deliveryCounts(store.reader);
        // 'none' (no webhook) is not a delivery state: it would count every notice written.
        this.set({ state: 'queued' }, counts.pending);
        this.set({ state: 'delivered' }, counts.delivered);
        this.set({ state: 'failed' }, counts.failed);
      } catch {
        /* the database is closing; report nothing */
      }
    },
  });
  const jobs = new Counter({
    name: 'betrokken_job_items_total',
    help: 'Items handled by the periodic jobs',
    labelNames: ['job'],
    registers: [registry],
  });
  for (const outcome of ['delivered', 'retried', 'failed']) deliveries.inc({ outcome }, 0);
  return {
    registry,
    observeRequest: (method, route, status, seconds) => requests.observe({ method, route, status: String(status) }, seconds),
    recordDelivery: (s) => {
      if (s.delivered) deliveries.inc({ outcome: 'delivered' }, s.delivered);
      if (s.retried) deliveries.inc({ outcome: 'retried' }, s.retried);
      if (s.failed) deliveries.inc({ outcome: 'failed' }, s.failed);
    },
    recordJob: (job, items) => jobs.inc({ job }, items),
  };
}
