// The one metrics module: CloudWatch metrics as Embedded Metric Format lines on stdout (Powertools
// for AWS Lambda's Metrics), which CloudWatch Logs turns into metrics on Lambda; locally they are
// log lines. Namespace ResponsesGateway, dimension service=responses-gateway (the dashboard's).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const metrics = new Metrics({ namespace: 'ResponsesGateway', serviceName: 'responses-gateway' });

export const count = (name: string, n = 1): void => { metrics.addMetric(name, MetricUnit.Count, n); };

export const millis = (name: string, ms: number): void => { metrics.addMetric(name, MetricUnit.Milliseconds, ms); };

/** A count with its own dimension (e.g. per endpoint), written at once. */
export function countBy(name: string, dimension: string, value: string): void {
  metrics.singleMetric().addDimension(dimension, value).addMetric(name, MetricUnit.Count, 1);
}

/** Writes what was stored (at the end of every request and task); nothing when nothing was. */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
