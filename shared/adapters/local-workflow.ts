import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackgroundLauncher, QueuedJob } from '../ports.ts';
import { settledWithin } from '../timing.ts';

// The local stand-in for Step Functions: aws-local-stepfunctions runs infra/workflow.asl.json (the
// very file CDK deploys) with the worker's two actions as local task handlers.

const WORKFLOW_PATH = fileURLToPath(new URL('../../infra/workflow.asl.json', import.meta.url));
const LOCAL_WORKER_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:local-worker';

/** The workflow document with its substitutions applied, as Step Functions would run it. */
function workflowDefinition(substitutions: Record<string, string>): unknown {
  const text = readFileSync(WORKFLOW_PATH, 'utf8').replace(/\$\{(\w+)\}/g, (m, name: string) => substitutions[name] ?? m);
  return JSON.parse(text);
}

export interface WorkerActions {
  /** `shutdown` fires when the launcher stops (after its grace period): the run must end, stored as failed. */
  run(input: { responseId: string; executionId: string; job?: QueuedJob }, shutdown: AbortSignal): Promise<unknown>;
  fail(input: { responseId: string; error?: { Error?: string; Cause?: string } }): Promise<unknown>;
}

export class LocalWorkflowLauncher implements BackgroundLauncher {
  private readonly running = new Map<string, { abort(): void; result: Promise<unknown> }>();
  private machine: Promise<{ run: (input: unknown, opts: unknown) => { abort(): void; result: Promise<unknown> } }> | undefined;
  private readonly stopping = new AbortController();
  /**
   * Task handlers still running. An execution that was stopped (a cancel) resolves at once, while
   * its task runs on to notice the cancel: a drain must wait for the task too.
   */
  private readonly tasks = new Set<Promise<unknown>>();
  /** Jobs handed over by the API in this process, for their run's first try (a retry reads the record). */
  private readonly handed = new Map<string, QueuedJob>();

  constructor(private readonly actions: WorkerActions, private readonly opts: { retryIntervalMs?: number } = {}) {}

  private async stateMachine() {
    this.machine ??= import('aws-local-stepfunctions').then(({ StateMachine }) =>
      new StateMachine(workflowDefinition({ WorkerFunctionArn: LOCAL_WORKER_ARN }) as never) as never);
    return this.machine;
  }

  async start(responseId: string, job?: QueuedJob): Promise<void> {
    if (this.running.has(responseId)) return; // named after the response: one run per response
    if (job) this.handed.set(responseId, job);
    const machine = await this.stateMachine();
    const executionId = `arn:aws:states:local:000000000000:execution:responses:${responseId}`;
    const taskInput = (input: unknown) => input as Record<string, unknown>;
    const execution = machine.run({ responseId }, {
      noThrowOnAbort: true,
      context: { Execution: { Id: executionId, Name: responseId } },
      overrides: {
        taskResourceLocalHandlers: {
          RunResponse: async (input: unknown) => {
            const job = this.handed.get(responseId);
            this.handed.delete(responseId);
            return (await this.track(this.actions.run({ ...taskInput(input), job } as never, this.stopping.signal))) as never;
          },
          MarkFailed: async (input: unknown) => (await this.track(this.actions.fail(taskInput(input) as never))) as never,
        },
        retryIntervalOverrides: this.opts.retryIntervalMs !== undefined
          ? { RunResponse: this.opts.retryIntervalMs, MarkFailed: this.opts.retryIntervalMs }
          : undefined,
      },
    });
    const result = execution.result.catch(() => undefined).finally(() => {
      this.running.delete(responseId);
      this.handed.delete(responseId);
    });
    this.running.set(responseId, { abort: execution.abort, result });
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task)).catch(() => undefined);
    return task;
  }

  async stop(responseId: string): Promise<void> {
    this.running.get(responseId)?.abort();
  }

  /**
   * Waits for every run in flight (tests, shutdown): up to `graceMs`, then stops those left (each
   * ends failed, with its terminal event stored) and waits up to `stopWaitMs` for them to say so.
   */
  async drain(graceMs = Number.POSITIVE_INFINITY, stopWaitMs = 10_000): Promise<void> {
    const all = () => Promise.allSettled([...[...this.running.values()].map((r) => r.result), ...this.tasks]);
    if (Number.isFinite(graceMs)) {
      await settledWithin(all(), graceMs);
      if (this.running.size === 0 && this.tasks.size === 0) return;
      this.stopping.abort();
      await settledWithin(all(), stopWaitMs);
    } else await all();
  }
}
