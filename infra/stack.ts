// The whole gateway in one stack: the API behind a streaming IAM-auth Function URL, the worker
// and sweeper, the tables of shared/adapters/dynamo/layout.ts, the workflow of infra/workflow.asl.json,
// the sweep schedule, log groups, the dashboard and alarms (infra/monitoring.ts), and a managed
// policy that lets a client call the API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { TABLES, tableEnvName, type KeyDef, type TableDef, type TableKey } from '../shared/adapters/dynamo/layout.ts';
import { SWEEPER_CONFIG_KEYS } from '../shared/service/sweep.ts';
import { FUNCTIONS, PROJECT_ROOT, bundleSettings, cdkBundlingOptions, type FunctionSpec } from './bundling.ts';
import { TABLE_OPERATIONS, monitor } from './monitoring.ts';
import { acknowledgeFindings } from './nag.ts';
import { configJsonFor, type GatewaySettings } from './settings.ts';

/** The ONE workflow definition, deployed as is with these substitutions. */
export const WORKFLOW_FILE = join(PROJECT_ROOT, 'infra', 'workflow.asl.json');
export const WORKER_ARN_SUBSTITUTION = 'WorkerFunctionArn';

/** Lambda's Node runtime for every function (the newest Node runtime Lambda offers). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The IAM actions of each table's operations (monitoring.ts TABLE_OPERATIONS: the one list). */
export const TABLE_ITEM_ACTIONS = TABLE_OPERATIONS.responses.map((op) => `dynamodb:${op}` as const);
export const CACHE_ITEM_ACTIONS = TABLE_OPERATIONS.cache.map((op) => `dynamodb:${op}` as const);

function pascal(s: string): string {
  return s.replace(/(^|[-_])([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

function attribute(k: KeyDef): dynamodb.Attribute {
  const type = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY }[k.type];
  return { name: k.name, type };
}

export interface ResponsesGatewayStackProps extends StackProps {
  settings: GatewaySettings;
}

/** The config (JSON) cut to `keys`. */
function pickKeys(configJson: string, keys: readonly string[]): string {
  const config = JSON.parse(configJson) as Record<string, unknown>;
  return JSON.stringify(Object.fromEntries(keys.filter((k) => k in config).map((k) => [k, config[k]])));
}

export class ResponsesGatewayStack extends Stack {
  readonly tables: Record<TableKey, dynamodb.TableV2>;
  readonly functions: Record<FunctionSpec['id'], NodejsFunction>;
  readonly functionUrl: lambda.FunctionUrl;
  readonly stateMachine: sfn.StateMachine;
  readonly clientPolicy: iam.ManagedPolicy;
  readonly monitoring: ReturnType<typeof monitor>;

  constructor(scope: Construct, id: string, props: ResponsesGatewayStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const removalPolicy = settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    // ── tables: shared/adapters/dynamo/layout.ts mapped 1:1 ────────────────────────────────────────
    // A durable table (responses) has point-in-time recovery and follows the stack's removal
    // policy; the cache has neither: it is dropped with the stack (the responses table kept), and
    // losing it costs only misses.
    this.tables = {} as Record<TableKey, dynamodb.TableV2>;
    for (const key of Object.keys(TABLES) as TableKey[]) {
      const def: TableDef = TABLES[key];
      const tableRemoval = def.durable ? removalPolicy : RemovalPolicy.DESTROY;
      this.tables[key] = new dynamodb.TableV2(this, `${pascal(def.name)}Table`, {
        partitionKey: attribute(def.partitionKey),
        ...(def.sortKey ? { sortKey: attribute(def.sortKey) } : {}),
        billing: dynamodb.Billing.onDemand(),
        ...(def.timeToLiveAttribute ? { timeToLiveAttribute: def.timeToLiveAttribute } : {}),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: def.durable },
        // AWS-managed key (aws/dynamodb): encrypted with a KMS key whose use shows in CloudTrail,
        // no key to administer and no kms:* grants for the functions.
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        globalSecondaryIndexes: def.globalSecondaryIndexes.map((ix) => ({
          indexName: ix.indexName,
          partitionKey: attribute(ix.partitionKey),
          ...(ix.sortKey ? { sortKey: attribute(ix.sortKey) } : {}),
          projectionType: dynamodb.ProjectionType[ix.projectionType],
          ...(ix.projectionType === 'INCLUDE' ? { nonKeyAttributes: ix.nonKeyAttributes ?? [] } : {}),
        })),
        removalPolicy: tableRemoval,
        deletionProtection: tableRemoval === RemovalPolicy.RETAIN,
      });
    }
    const { responses, cache } = this.tables;
    const tableEnv = (keys: TableKey[]) => Object.fromEntries(keys.map((k) => [tableEnvName(k), this.tables[k].tableName]));

    // ── functions ───────────────────────────────────────────────────────────────────────────
    const bundling = cdkBundlingOptions(bundleSettings({ sourceMap: settings.sourceMaps }));
    const configJson = configJsonFor(settings.configPath);
    const secretParameters = JSON.stringify(settings.secretParameters);
    const nodeOptions: Record<string, string> = settings.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {};
    const envFor: Record<FunctionSpec['id'], Record<string, string>> = {
      // Only the API uses the cache (background jobs never do: shared/service/cache.ts).
      Api: { ...tableEnv(['responses', 'cache']), CONFIG_JSON: configJson, SECRET_PARAMETERS: secretParameters, ...nodeOptions },
      Worker: { ...tableEnv(['responses']), CONFIG_JSON: configJson, SECRET_PARAMETERS: secretParameters, ...nodeOptions },
      // The sweeper calls no upstream: the keys it reads, no secrets (shared/service/sweep.ts).
      Sweeper: { ...tableEnv(['responses']), CONFIG_JSON: pickKeys(configJson, SWEEPER_CONFIG_KEYS), ...nodeOptions },
    };

    this.functions = {} as Record<FunctionSpec['id'], NodejsFunction>;
    for (const spec of FUNCTIONS) {
      const logGroup = new logs.LogGroup(this, `${spec.id}Logs`, {
        retention: settings.logRetentionDays as logs.RetentionDays,
        removalPolicy,
      });
      // Our own role: the default one carries the AWSLambdaBasicExecutionRole managed policy
      // (logs on every log group); this one may write to its own log group only.
      const role = new iam.Role(this, `${spec.id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${spec.id} function of ${this.stackName}`,
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }));
      this.functions[spec.id] = new NodejsFunction(this, spec.id, {
        entry: join(PROJECT_ROOT, spec.entry),
        handler: spec.handler,
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        runtime: RUNTIME,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memorySize,
        timeout: Duration.seconds(spec.timeoutSeconds),
        // X-Ray from the Lambda service itself (no tracer in the bundles): each invocation's
        // init and duration, and a background job as one trace from its execution to the worker.
        tracing: lambda.Tracing.ACTIVE,
        description: spec.description,
        role,
        logGroup,
        environment: envFor[spec.id],
        bundling,
      });
    }
    const { Api: api, Worker: worker, Sweeper: sweeper } = this.functions;

    // ── data access ─────────────────────────────────────────────────────────────────────────
    // Table ARN only: the API and the worker never query an index. The sweeper queries the
    // sparse active-index and nothing else. The cache table is the API's alone.
    for (const fn of [api, worker, sweeper]) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        sid: 'TableItems',
        actions: [...TABLE_ITEM_ACTIONS],
        resources: [responses.tableArn],
      }));
    }
    api.addToRolePolicy(new iam.PolicyStatement({
      sid: 'CacheItems',
      actions: [...CACHE_ITEM_ACTIONS],
      resources: [cache.tableArn],
    }));
    const activeIndex = TABLES.responses.globalSecondaryIndexes[0]!.indexName;
    sweeper.addToRolePolicy(new iam.PolicyStatement({
      sid: 'QueryActiveIndex',
      actions: ['dynamodb:Query'],
      resources: [`${responses.tableArn}/index/${activeIndex}`],
    }));

    // Upstream keys: SecureString parameters named in context, read with decryption at cold start.
    const parameterArns = Object.values(settings.secretParameters).map((name) =>
      name.startsWith('arn:')
        ? name
        : this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, ''), arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    );
    for (const fn of [api, worker]) {
      if (parameterArns.length > 0) {
        fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadSecretParameters', actions: ['ssm:GetParameters'], resources: parameterArns }));
      }
      // The default aws/ssm key's policy already lets the account's principals decrypt through
      // SSM; a customer-managed key needs the grant, and only through SSM.
      if (settings.secretsKmsKeyArn) {
        fn.addToRolePolicy(new iam.PolicyStatement({
          sid: 'DecryptSecretParameters',
          actions: ['kms:Decrypt'],
          resources: [settings.secretsKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${this.region}.amazonaws.com` } },
        }));
      }
    }

    // ── workflow: infra/workflow.asl.json, exactly ──────────────────────────────────────────
    const workflowLogs = new logs.LogGroup(this, 'WorkflowLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch's resource policy for log delivery small.
      logGroupName: `/aws/vendedlogs/states/${this.stackName}-workflow`,
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Workflow', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(WORKFLOW_FILE, 'utf8')),
      definitionSubstitutions: { [WORKER_ARN_SUBSTITUTION]: worker.functionArn },
      logs: { destination: workflowLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // The definition names the worker by its unqualified ARN: invoke exactly that (not `:*`).
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'InvokeWorker',
      actions: ['lambda:InvokeFunction'],
      resources: [worker.functionArn],
    }));
    api.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    api.addToRolePolicy(new iam.PolicyStatement({
      sid: 'StartBackground',
      actions: ['states:StartExecution'],
      resources: [this.stateMachine.stateMachineArn],
    }));
    api.addToRolePolicy(new iam.PolicyStatement({
      sid: 'StopBackground',
      actions: ['states:StopExecution'],
      resources: [this.formatArn({
        service: 'states',
        resource: 'execution',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        resourceName: `${this.stateMachine.stateMachineName}:*`,
      })],
    }));

    // ── sweep every minute ──────────────────────────────────────────────────────────────────
    const schedulerRole = new iam.Role(this, 'SweepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: `EventBridge Scheduler invoking the sweeper of ${this.stackName}`,
    });
    schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'InvokeSweeper',
      actions: ['lambda:InvokeFunction'],
      resources: [sweeper.functionArn],
    }));
    new scheduler.Schedule(this, 'SweepSchedule', {
      description: 'Marks orphaned background responses failed',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      // A target of our own: aws-scheduler-targets' LambdaInvoke grants `<arn>:*` as well.
      target: {
        bind: () => ({
          arn: sweeper.functionArn,
          role: schedulerRole,
          input: scheduler.ScheduleTargetInput.fromObject({ action: 'sweep' }),
          // A missed sweep is redone by the next one a minute later.
          retryPolicy: { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 0 },
        }),
      },
    });

    // ── the URL and who may call it ─────────────────────────────────────────────────────────
    this.functionUrl = api.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });
    this.clientPolicy = new iam.ManagedPolicy(this, 'ClientPolicy', {
      description: `Call the Responses API of ${this.stackName} through its Function URL (SigV4, service lambda)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeFunctionUrl',
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [api.functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        // Function URLs created since October 2025 also require lambda:InvokeFunction, limited
        // here to invocations that come through the URL.
        new iam.PolicyStatement({
          sid: 'InvokeViaFunctionUrl',
          actions: ['lambda:InvokeFunction'],
          resources: [api.functionArn],
          conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ],
    });

    // ── dashboard, alarms and the topic they notify: infra/monitoring.ts ────────────────────
    this.monitoring = monitor(this, { functions: this.functions, stateMachine: this.stateMachine, tables: this.tables, alarmTopicArn: settings.alarmTopicArn });

    // ── outputs ─────────────────────────────────────────────────────────────────────────────
    new CfnOutput(this, 'FunctionUrl', { value: this.functionUrl.url, description: 'Base URL of the API (append v1/responses); SigV4, service lambda' });
    for (const key of Object.keys(this.tables) as TableKey[]) {
      new CfnOutput(this, `${pascal(TABLES[key].name)}TableName`, { value: this.tables[key].tableName });
    }
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ClientPolicyArn', { value: this.clientPolicy.managedPolicyArn, description: 'Attach to a role or user to let it call the API' });

    acknowledgeFindings(this);
  }
}
