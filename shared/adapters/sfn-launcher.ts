import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { BackgroundLauncher } from '../ports.ts';

/**
 * Step Functions in AWS. Executions are named after the response id: a retried start gets
 * ExecutionAlreadyExists instead of a second run of the job.
 */
export class SfnLauncher implements BackgroundLauncher {
  constructor(private readonly client: SFNClient, private readonly stateMachineArn: string) {}

  async start(responseId: string): Promise<void> {
    try {
      await this.client.send(new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name: responseId,
        input: JSON.stringify({ responseId }),
      }));
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
    }
  }

  async stop(responseId: string): Promise<void> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${responseId}`;
    await this.client.send(new StopExecutionCommand({ executionArn, cause: 'cancelled by the client' })).catch(() => undefined);
  }
}
