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

/** Writes what was stored (at the end of every request and task); nothing when nothing was. */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
