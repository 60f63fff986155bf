// cdk-nag (AwsSolutions) findings this stack accepts, each with its reason, and the IAM wildcard
// resources AWS itself requires (test/infra/stack.test.ts allows exactly these).
//
// cdk-nag 3 acknowledges findings through CDK's own `Validations.of(construct).acknowledge()`
// (v2's `NagSuppressions` is gone); each finding is acknowledged by its exact id.
import { Validations, type CfnElement } from 'aws-cdk-lib';
import type { ResponsesGatewayStack } from './stack.ts';

/**
 * Actions that AWS only authorizes on `Resource: "*"`, with why. Any other `*` in a policy of
 * this stack is a bug.
 */
export const WILDCARD_RESOURCE_EXCEPTIONS: Record<string, string> = {
  // Step Functions logging to CloudWatch Logs (vended log delivery). AWS documents these as
  // not supporting resource-level permissions; CDK adds them for `logs` on a state machine.
  'logs:CreateLogDelivery': 'CloudWatch Logs vended log delivery has no resource-level permissions',
  'logs:GetLogDelivery': 'CloudWatch Logs vended log delivery has no resource-level permissions',
  'logs:UpdateLogDelivery': 'CloudWatch Logs vended log delivery has no resource-level permissions',
  'logs:DeleteLogDelivery': 'CloudWatch Logs vended log delivery has no resource-level permissions',
  'logs:ListLogDeliveries': 'CloudWatch Logs vended log delivery has no resource-level permissions',
  'logs:PutResourcePolicy': 'Log delivery writes the account-level CloudWatch Logs resource policy',
  'logs:DescribeResourcePolicies': 'Log delivery reads the account-level CloudWatch Logs resource policy',
  'logs:DescribeLogGroups': 'DescribeLogGroups has no resource-level permissions',
  // X-Ray tracing of the state machine: X-Ray's write and sampling APIs take no resource.
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions for trace writes',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions for telemetry writes',
  'xray:GetSamplingRules': 'X-Ray sampling rules are read account-wide',
  'xray:GetSamplingTargets': 'X-Ray sampling targets are read account-wide',
};

export function acknowledgeFindings(stack: ResponsesGatewayStack): void {
  const api = stack.functions.Api;
  const sm = stack.stateMachine;
  const smLogicalId = stack.getLogicalId(sm.node.defaultChild as CfnElement);

  // The API stops background runs on cancel: an execution's ARN ends with its name, made up at
  // StartExecution, so the executions of this one state machine can only be named by a pattern.
  Validations.of(api.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${smLogicalId}.Name>:*]`,
    reason: 'states:StopExecution is scoped to the executions of this state machine (execution:<name>:*); execution names are generated per run, so no narrower ARN exists.',
  });

  // Active tracing: each function writes its segments to X-Ray, whose write APIs take no resource.
  for (const fn of Object.values(stack.functions)) {
    Validations.of(fn.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing), which X-Ray authorizes on "*" alone.',
    });
  }

  // Logging (ALL, to its own log group) and X-Ray tracing of the state machine.
  Validations.of(sm.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `Only for actions AWS authorizes on "*" alone: ${Object.keys(WILDCARD_RESOURCE_EXCEPTIONS).join(', ')} (CloudWatch Logs vended delivery and X-Ray for the state machine's logging and tracing). Its Lambda access is the worker's ARN only.`,
  });
}
