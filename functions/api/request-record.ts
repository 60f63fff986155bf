// One structured log line and the metrics of every API request, written when it has ended (a
// stream: after its last event): who asked what, how it was answered, how long it took.
import { performance } from 'node:perf_hooks';
import { log } from '../../shared/log.ts';
import { count, millis, publishMetrics } from '../../shared/metrics.ts';
import type { ResponseObject, StreamEvent } from '../../shared/protocol/types.ts';
import { TERMINAL_EVENT_TYPES } from '../../shared/stream/events.ts';
import type { FunctionUrlEvent } from './event.ts';

export class RequestRecord {
  private readonly started = performance.now();
  private readonly fields: Record<string, unknown>;

  constructor(event: FunctionUrlEvent) {
    this.fields = { requestId: event.requestContext.requestId, method: event.requestContext.http.method, path: event.rawPath };
  }

  set(fields: Record<string, unknown>): void {
    Object.assign(this.fields, fields);
  }

  /** A Response the client was given: its usage. */
  response(r: ResponseObject): void {
    if (r.usage) this.set({ inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens });
    this.set({ responseStatus: r.status });
  }

  /** Events as they go out: the time to the first token, then the terminal event's Response. */
  observe(batch: readonly StreamEvent[]): void {
    if (this.fields.firstTokenMs === undefined && batch.some((e) => e.type.endsWith('.delta'))) {
      this.fields.firstTokenMs = Math.round(performance.now() - this.started);
    }
    const end = batch.find((e) => TERMINAL_EVENT_TYPES.has(e.type) && e.response);
    if (end) this.response(end.response as ResponseObject);
  }

  end(status: number): void {
    const durationMs = Math.round(performance.now() - this.started);
    log.info('request', { ...this.fields, status, durationMs });
    count('Requests');
    if (status >= 500) count('Errors');
    else if (status >= 400) count('ClientErrors');
    millis('Latency', durationMs);
    if (typeof this.fields.firstTokenMs === 'number') millis('TimeToFirstToken', this.fields.firstTokenMs);
    if (typeof this.fields.inputTokens === 'number') count('InputTokens', this.fields.inputTokens);
    if (typeof this.fields.outputTokens === 'number') count('OutputTokens', this.fields.outputTokens as number);
    publishMetrics();
  }
}
