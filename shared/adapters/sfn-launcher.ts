import type { BackgroundLauncher } from '../ports.ts';
import { AwsError, awsJson } from './aws-json.ts';

const SFN = { service: 'states', envName: 'SFN', targetPrefix: 'AWSStepFunctions', jsonVersion: '1.0' } as const;

/**
 * Step Functions in AWS (two signed calls: aws-json.ts). Executions are named after the response
 * id: a retried start gets ExecutionAlreadyExists instead of a second run of the job.
 */
export class SfnLauncher implements BackgroundLauncher {
  constructor(private readonly stateMachineArn: string, private readonly env: Record<string, string | undefined> = process.env) {}

  /** Only the id goes to Step Functions (an execution's input stays in its history): the worker reads the record. */
  async start(responseId: string): Promise<void> {
    try {
      await awsJson(SFN, 'StartExecution', { stateMachineArn: this.stateMachineArn, name: responseId, input: JSON.stringify({ responseId }) }, {}, this.env);
    } catch (err) {
      if (!(err instanceof AwsError && err.type === 'ExecutionAlreadyExists')) throw err;
    }
  }

  async stop(responseId: string): Promise<void> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${responseId}`;
    await awsJson(SFN, 'StopExecution', { executionArn, cause: 'cancelled by the client' }, {}, this.env).catch(() => undefined);
  }
}
