import { serve } from '@hono/node-server';
import { loadConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { createMetricsApp } from './http/metrics-app.ts';
import { scheduleJobs } from './jobs/index.ts';
import { DEFAULT_DELIVERY, startDeliveryWorker } from './notify/delivery.ts';
import { createLogger } from './log.ts';
import { openRuntime } from './runtime.ts';

/** config → runtime (db, migrations, keys, policy) → createApp → serve; nothing else. */
export async function startServer(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const deps = await openRuntime(config, logger);
  const app = createApp(deps);
  const stopJobs = scheduleJobs(deps, config.jobIntervalS * 1000);
  const stopDelivery = startDeliveryWorker(deps, { ...DEFAULT_DELIVERY, ...config.webhook });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    logger.info({ host: config.host, port: info.port, policy: `${deps.policy.id}@${deps.policy.version}`, db: config.dbFile }, 'betrokken listening');
  });
  const metricsServer = serve({ fetch: createMetricsApp(deps.metrics).fetch, port: config.metrics.port, hostname: config.metrics.host }, (info) => {
    logger.info({ host: config.metrics.host, port: info.port }, 'metrics listening');
  });
  for (const [name, srv] of [['api', server], ['metrics', metricsServer]] as const) {
    srv.once('error', (err) => {
      logger.fatal({ err, listener: name }, 'cannot listen');
      process.exit(1);
    });
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    stopJobs();
    metricsServer.close();
    server.close(() => {
      void stopDelivery().finally(() => {
        deps.db.$client.close();
        process.exit(0);
      });
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
