// The one metrics module: CloudWatch metrics as Embedded Metric Format lines on stdout (Powertools
// for AWS Lambda's Metrics), which CloudWatch Logs turns into metrics on Lambda; locally they are
// log lines. Namespace ResponsesGateway, dimension service=responses-gateway (the dashboard's).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const NAMESPACE = 'ResponsesGateway';
/** The value of every metric's default dimension `service`. */
export const SERVICE = 'responses-gateway';

/** Every metric the gateway publishes (the CloudWatch dashboard, infra/monitoring.ts, graphs these). */
export const METRIC = {
  requests: 'Requests',
  errors: 'Errors', // 5xx answers
  clientErrors: 'ClientErrors', // 4xx answers
  latency: 'Latency', // ms, request to last byte
  timeToFirstToken: 'TimeToFirstToken', // ms, request to the first streamed delta
  inputTokens: 'InputTokens',
  outputTokens: 'OutputTokens',
  cacheHits: 'CacheHits',
  cacheMisses: 'CacheMisses',
  slotWaits: 'SlotWaits', // requests that found every slot taken and waited
  slotRejections: 'SlotRejections', // ...and got 429
  upstreamFailures: 'UpstreamFailures', // with a second dimension, Endpoint
  orphansFailed: 'OrphansFailed', // responses the sweep marked failed
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const metrics = new Metrics({ namespace: NAMESPACE, serviceName: SERVICE });

export const count = (name: MetricName, n = 1): void => { metrics.addMetric(name, MetricUnit.Count, n); };

export const millis = (name: MetricName, ms: number): void => { metrics.addMetric(name, MetricUnit.Milliseconds, ms); };

/** A count with its own dimension (e.g. per endpoint), written at once. */
export function countBy(name: MetricName, dimension: string, value: string): void {
  metrics.singleMetric().addDimension(dimension, value).addMetric(name, MetricUnit.Count, 1);
}

let everyMs = 0;
let due: NodeJS.Timeout | undefined;

/**
 * A long-running process (npm start) publishes at most every `ms` instead of after each request:
 * the values stored meanwhile go out together (EMF holds up to 100 values of a metric in one
 * line; Powertools writes a line early when one is full). Per request, the EMF line was a tenth of
 * the server's CPU (docs/benchmarks.md, "Garbage collection at 2,000 req/s"). Lambda leaves this
 * off: an invocation's metrics are written before it ends.
 */
export function publishEvery(ms: number): void {
  everyMs = ms;
}

/** Writes what was stored (at the end of every request and task, or every publishEvery ms); nothing when nothing was. */
export function publishMetrics(): void {
  if (!metrics.hasStoredMetrics()) return;
  if (everyMs === 0) metrics.publishStoredMetrics();
  else due ??= setTimeout(flushMetrics, everyMs).unref();
}

/** Writes what is stored now (a stopping process). */
export function flushMetrics(): void {
  clearTimeout(due);
  due = undefined;
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
