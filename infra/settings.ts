// Deployment settings from CDK context (`-c key=value` on the command line, where every value
// arrives as a string); their defaults are DEFAULT_SETTINGS, here only (cdk.json holds the app,
// stackName and CLI settings).
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { parse as parseYaml } from 'yaml';
import { configFrom, configPathOf } from '../shared/config-file.ts';
import { PROJECT_ROOT } from './bundling.ts';

export interface GatewaySettings {
  /** The config file, found as `npm start` finds it (shared/config-file.ts), relative to the project root. */
  configPath: string;
  /** ENV NAME -> SSM SecureString parameter name (or ARN); read by the functions at cold start. */
  secretParameters: Record<string, string>;
  /** A customer-managed KMS key those parameters are encrypted with; empty for aws/ssm. */
  secretsKmsKeyArn: string;
  /** What happens to the tables (and log groups) when the stack is deleted. */
  removalPolicy: 'retain' | 'destroy';
  /** One of CloudWatch's retention periods (1, 3, 5, 7, 14, 30, 60, 90, … days). */
  logRetentionDays: number;
  /** External source maps in the bundles and NODE_OPTIONS=--enable-source-maps. */
  sourceMaps: boolean;
  /** An existing SNS topic the alarms notify; empty: the stack makes one (output AlarmTopicArn). */
  alarmTopicArn: string;
}

export const DEFAULT_SETTINGS: Omit<GatewaySettings, 'configPath'> = {
  secretParameters: {},
  secretsKmsKeyArn: '',
  removalPolicy: 'retain',
  logRetentionDays: 30,
  sourceMaps: false,
  alarmTopicArn: '',
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// SSM parameter names: letters, digits, . - _ and / for hierarchy. No wildcards: IAM grants name them exactly.
const PARAMETER_NAME = /^\/?[A-Za-z0-9_.\-]+(\/[A-Za-z0-9_.\-]+)*$/;
const PARAMETER_ARN = /^arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-\/]+$/;
// A standard topic: CloudWatch alarms cannot notify a FIFO one.
const TOPIC_ARN = /^arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function bool(value: unknown): boolean {
  return value === true || value === 'true';
}

export function settingsFromContext(node: Node, env: Record<string, string | undefined> = process.env): GatewaySettings {
  const get = <K extends keyof typeof DEFAULT_SETTINGS>(key: K): unknown => node.tryGetContext(key) ?? DEFAULT_SETTINGS[key];
  const removalPolicy = String(get('removalPolicy'));
  if (removalPolicy !== 'retain' && removalPolicy !== 'destroy') throw new Error(`context removalPolicy: 'retain' or 'destroy', not '${removalPolicy}'`);
  const logRetentionDays = Number(get('logRetentionDays'));
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number' && v > 0);
  if (!allowed.includes(logRetentionDays)) throw new Error(`context logRetentionDays: one of ${allowed.join(', ')}`);
  const secretParameters = json<Record<string, string>>(get('secretParameters')) ?? {};
  if (typeof secretParameters !== 'object' || Array.isArray(secretParameters)) throw new Error('context secretParameters: a JSON object {ENV_NAME: parameterName}');
  for (const [env, name] of Object.entries(secretParameters)) {
    if (!ENV_NAME.test(env)) throw new Error(`context secretParameters: '${env}' is not an environment variable name`);
    if (typeof name !== 'string' || !(PARAMETER_NAME.test(name) || PARAMETER_ARN.test(name))) {
      throw new Error(`context secretParameters.${env}: '${String(name)}' is not an SSM parameter name or ARN`);
    }
  }
  const alarmTopicArn = String(get('alarmTopicArn') ?? '');
  if (alarmTopicArn && !TOPIC_ARN.test(alarmTopicArn)) throw new Error(`context alarmTopicArn: '${alarmTopicArn}' is not the ARN of a standard SNS topic`);
  return {
    configPath: String(node.tryGetContext('configPath') ?? configPathOf(env, (p) => existsSync(join(PROJECT_ROOT, p)))),
    secretParameters,
    secretsKmsKeyArn: String(get('secretsKmsKeyArn') ?? ''),
    removalPolicy,
    logRetentionDays,
    sourceMaps: bool(get('sourceMaps')),
    alarmTopicArn,
  };
}

/**
 * The config file as the functions' CONFIG_JSON: validated now (a bad file fails the synth, not
 * the first request) and re-serialized as compact JSON, which is YAML too. Comments go, so the
 * value fits Lambda's 4 KB budget for all environment variables; `${NAME}` placeholders stay
 * for the functions to expand at cold start.
 */
export function configJsonFor(configPath: string): string {
  const file = isAbsolute(configPath) ? configPath : join(PROJECT_ROOT, configPath);
  const text = readFileSync(file, 'utf8');
  try {
    configFrom(text, configPath, {}); // its error names the file and the key, as `npm start` says it
  } catch (err) {
    // With `${NAME}` placeholders expanded empty a valid file may fail (e.g. a URL from the
    // environment): only a file without placeholders is judged here.
    if (!/\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(text)) throw err;
  }
  return JSON.stringify(parseYaml(text) ?? {});
}
