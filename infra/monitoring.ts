// What an operator sees and is told: one CloudWatch dashboard (the gateway's own metrics, the three
// functions, the workflow, the tables) and the alarms, which notify one SNS topic: the stack's own,
// or one given in context (`alarmTopicArn`). Made in the stack's scope, so construct ids (and
// logical ids) are the stack's.
import { Aws, CfnOutput, Duration, Fn, type Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { TableKey } from '../shared/adapters/dynamo/layout.ts';
import type { FunctionSpec } from './bundling.ts';
import { METRIC, NAMESPACE, SERVICE } from '../shared/metrics.ts';

/**
 * The DynamoDB operations each table's stores issue (shared/adapters/dynamo): item-level only, no
 * Scan, no table management. The cache store reads, writes an entry and ADDs to its counters. The
 * stack grants exactly these (dynamodb:<op>, infra/stack.ts); the throttle and system-error
 * figures here sum them.
 */
export const TABLE_OPERATIONS = {
  responses: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
  cache: ['GetItem', 'PutItem', 'UpdateItem'],
} as const satisfies Record<TableKey, readonly string[]>;

export interface MonitoredParts {
  functions: Record<FunctionSpec['id'], NodejsFunction>;
  stateMachine: sfn.StateMachine;
  tables: Record<TableKey, dynamodb.TableV2>;
  /** An existing topic for the alarms; empty: the stack makes one. */
  alarmTopicArn: string;
}

const PERIOD = Duration.minutes(1);
const sum = { period: PERIOD, statistic: cloudwatch.Stats.SUM };

export function monitor(stack: Stack, parts: MonitoredParts): { topic: sns.ITopic; dashboard: cloudwatch.Dashboard; alarms: cloudwatch.Alarm[] } {
  const { functions, stateMachine, tables } = parts;
  // TLS only. No KMS key: CloudWatch cannot publish to a topic under the AWS-managed aws/sns
  // key, and a notification carries alarm names and figures, no user data. A topic under a key
  // of your own (whose policy lets cloudwatch.amazonaws.com use it) can be given instead.
  const topic = parts.alarmTopicArn
    ? sns.Topic.fromTopicArn(stack, 'AlarmTopic', parts.alarmTopicArn)
    : new sns.Topic(stack, 'AlarmTopic', { displayName: `${stack.stackName} alarms`, enforceSSL: true });

  // ── alarms: each notifies the topic when it fires and when it clears ─────────────────────
  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
    const a = new cloudwatch.Alarm(stack, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    a.addAlarmAction(new SnsAction(topic));
    a.addOkAction(new SnsAction(topic));
    alarms.push(a);
  };
  for (const [id, fn] of Object.entries(functions)) {
    alarm(`${id}Errors`, fn.metricErrors(sum), `${id} function invocations failed`);
    alarm(`${id}Throttles`, fn.metricThrottles(sum), `${id} function invocations were throttled`);
  }
  alarm('WorkflowExecutionsFailed', stateMachine.metricFailed(sum), 'Background response executions failed');
  for (const [key, table] of Object.entries(tables) as [TableKey, dynamodb.TableV2][]) {
    // On-demand tables throttle only past their partitions' limits; a system error is DynamoDB's.
    const label = key[0]!.toUpperCase() + key.slice(1);
    alarm(`${label}TableThrottles`, overOperations(key, table, 'ThrottledRequests'), `Requests to the ${key} table were throttled`);
    alarm(`${label}TableSystemErrors`, overOperations(key, table, 'SystemErrors'), `DynamoDB failed requests to the ${key} table`);
  }

  // ── the dashboard ──────────────────────────────────────────────────────────────────────
  const gw = (metricName: string, statistic: string = cloudwatch.Stats.SUM, label?: string) =>
    // The gateway's metrics as the code publishes them (shared/metrics.ts: Powertools Metrics, EMF).
    new cloudwatch.Metric({ namespace: NAMESPACE, metricName, dimensionsMap: { service: SERVICE }, period: PERIOD, statistic, label });
  const percentiles = (metricName: string) => ['p50', 'p90', 'p99'].map((p) => gw(metricName, p, p));
  const fns = Object.entries(functions);
  const perFunction = (title: string, m: (fn: NodejsFunction) => cloudwatch.Metric, width: number) =>
    graph(title, fns.map(([id, fn]) => m(fn).with({ label: id })), width);
  const perTable = (title: string, m: (key: TableKey, t: dynamodb.TableV2) => cloudwatch.IMetric, width: number) =>
    graph(title, (Object.entries(tables) as [TableKey, dynamodb.TableV2][]).map(([key, t]) => withLabel(m(key, t), key)), width);

  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', {
    defaultInterval: Duration.hours(3),
    widgets: [
      [heading('Gateway (namespace ResponsesGateway, service responses-gateway)')],
      [
        graph('Requests and errors', [gw(METRIC.requests, undefined, 'requests'), gw(METRIC.errors, undefined, '5xx'), gw(METRIC.clientErrors, undefined, '4xx')]),
        graph('Latency (ms)', percentiles(METRIC.latency)),
        graph('Time to first token (ms)', percentiles(METRIC.timeToFirstToken)),
        graph('Tokens', [gw(METRIC.inputTokens, undefined, 'input'), gw(METRIC.outputTokens, undefined, 'output')]),
      ],
      [
        graph('Cache', [gw(METRIC.cacheHits, undefined, 'hits'), gw(METRIC.cacheMisses, undefined, 'misses')]),
        graph('Concurrency slots', [gw(METRIC.slotWaits, undefined, 'waits'), gw(METRIC.slotRejections, undefined, '429s')]),
        graph('Upstream failures by endpoint', [new cloudwatch.SearchExpression({
          expression: `SEARCH('{${NAMESPACE},Endpoint,service} MetricName="${METRIC.upstreamFailures}"', 'Sum', ${PERIOD.toSeconds()})`,
          label: "${PROP('Dim.Endpoint')}",
          period: PERIOD,
        })], 12),
      ],
      [heading('Lambda functions')],
      [
        perFunction('Invocations', (fn) => fn.metricInvocations(sum), 8),
        perFunction('Errors', (fn) => fn.metricErrors(sum), 8),
        perFunction('Throttles', (fn) => fn.metricThrottles(sum), 8),
      ],
      [
        perFunction('Duration p99 (ms)', (fn) => fn.metricDuration({ period: PERIOD, statistic: cloudwatch.Stats.p(99) }), 12),
        perFunction('Concurrent executions (max)', (fn) => fn.metric('ConcurrentExecutions', { period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }), 12),
      ],
      [heading('Background workflow (Step Functions) and tables (DynamoDB)')],
      [
        graph('Executions', [
          stateMachine.metricStarted({ ...sum, label: 'started' }),
          stateMachine.metricSucceeded({ ...sum, label: 'succeeded' }),
          stateMachine.metricFailed({ ...sum, label: 'failed' }),
          stateMachine.metricTimedOut({ ...sum, label: 'timed out' }),
        ], 8),
        perTable('Consumed read capacity (RCU)', (_, t) => t.metricConsumedReadCapacityUnits(sum), 8),
        perTable('Consumed write capacity (WCU)', (_, t) => t.metricConsumedWriteCapacityUnits(sum), 8),
      ],
      [
        perTable('Throttled requests', (key, t) => overOperations(key, t, 'ThrottledRequests'), 12),
        perTable('System errors', (key, t) => overOperations(key, t, 'SystemErrors'), 12),
      ],
    ],
  });

  new CfnOutput(stack, 'AlarmTopicArn', { value: topic.topicArn, description: 'SNS topic every alarm notifies (subscribe to it)' });
  new CfnOutput(stack, 'DashboardUrl', {
    value: Fn.join('', ['https://console.aws.amazon.com/cloudwatch/home?region=', Aws.REGION, '#dashboards:name=', dashboard.dashboardName]),
    description: 'The CloudWatch dashboard of the gateway',
  });
  return { topic, dashboard, alarms };
}

/**
 * A per-operation DynamoDB metric (ThrottledRequests, SystemErrors) summed over the operations the
 * table sees, a missing point counting 0. Ids carry the table, so both tables fit in one graph
 * (CDK's own metric*ForOperations name them after the operation alone).
 */
function overOperations(key: TableKey, table: dynamodb.TableV2, metricName: 'ThrottledRequests' | 'SystemErrors'): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  for (const op of TABLE_OPERATIONS[key]) {
    usingMetrics[`${key}${op.toLowerCase()}`] = table.metric(metricName, { ...sum, dimensionsMap: { TableName: table.tableName, Operation: op } });
  }
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
    usingMetrics,
    period: PERIOD,
    label: `${key} ${metricName}`,
  });
}

/** IMetric has no `with`; both kinds a table gives (Metric, MathExpression) have. */
function withLabel(m: cloudwatch.IMetric, label: string): cloudwatch.IMetric {
  return m instanceof cloudwatch.Metric || m instanceof cloudwatch.MathExpression ? m.with({ label }) : m;
}

function graph(title: string, left: cloudwatch.IMetric[], width = 6): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width, height: 6, legendPosition: cloudwatch.LegendPosition.BOTTOM });
}

function heading(text: string): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({ markdown: `### ${text}`, width: 24, height: 1 });
}
