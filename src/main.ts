import { serve } from '@hono/node-server';
import { loadConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { createMetricsApp } from './http/metrics-app.ts';
import { scheduleJobs } from './jobs/index.ts';
import { DEFAULT_DELIVERY, startDeliveryWorker } from './notify/delivery.ts';
import { createLogger } from './log.ts';
import { openRuntime } from './runtime.ts';

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the port is in use by another process',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this host',
};

/** config → runtime (db, migrations, keys, policy) → createApp → serve; nothing else. */
export async function startServer(opts: { allowOrphans?: boolean } = {}): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const deps = await openRuntime(config, logger, undefined, { create: true, orphans: opts.allowOrphans ? 'allow' : 'refuse' });
  const app = createApp(deps, config.console);
  const stopJobs = scheduleJobs(deps, config.jobIntervalS * 1000);
  const stopDelivery = startDeliveryWorker(deps, { ...DEFAULT_DELIVERY, ...config.webhook });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    logger.info({ host: config.host, port: info.port, policy: `${deps.policy.id}@${deps.policy.version}`, db: config.dbFile }, 'betrokken listening');
  });
  const metricsServer = serve({ fetch: createMetricsApp(deps.metrics).fetch, port: config.metrics.port, hostname: config.metrics.host }, (info) => {
    logger.info({ host: config.metrics.host, port: info.port }, 'metrics listening');
  });
  const listeners = { api: [server, config.host, config.port, 'PORT'], metrics: [metricsServer, config.metrics.host, config.metrics.port, 'METRICS_PORT'] } as const;
  for (const [name, [srv, host, port, setting]] of Object.entries(listeners)) {
    srv.once('error', (err: NodeJS.ErrnoException) => {
      logger.fatal({ listener: name, host, port, code: err.code }, 'cannot listen');
      process.stderr.write(`betrokken: cannot listen on ${host}:${port} (${setting}): ${LISTEN_PROBLEMS[err.code ?? ''] ?? err.message}\n`);
      process.exit(1);
    });
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    stopJobs();
    metricsServer.close();
    server.close(() => {
      void stopDelivery()
        .then(() => deps.store.close())
        .finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
