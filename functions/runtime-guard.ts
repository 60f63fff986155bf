import { log } from '../shared/log.ts';

let installed = false;

/**
 * For the Lambda entries, and only under a Lambda runtime (AWS_LAMBDA_RUNTIME_API set): a test
 * or the local server that imports an entry keeps Node's own handling. Lambda's
 * Node 24 runtime (aws-lambda-ric 4) handles no promise rejection that nothing awaited, so Node's
 * default ends the process, and the invocation handed to it next is lost with it
 * (Runtime.ExitError). The runtime itself makes two such rejections when its response stream to
 * the Runtime API fails (a reset connection): promises of its own that nobody can await.
 * Logged as errors instead, the invocation ends (the runtime reports its failure) and the next
 * one is served. test/lambda-runtime/ shows both.
 */
export function logStrayRejections(): void {
  if (installed || !process.env.AWS_LAMBDA_RUNTIME_API) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled promise rejection (logged; the runtime goes on)', { error: reason instanceof Error ? reason : new Error(String(reason)) });
  });
}
