// The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this with tsx).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ResponsesGatewayStack } from './stack.ts';
import { settingsFromContext } from './settings.ts';

const app = new App();
const settings = settingsFromContext(app.node);
// On stderr: the CLI keeps stdout for the template.
process.stderr.write(`Config shipped to the functions: ${settings.configPath}\n`);
// Environment-agnostic (no account/region): synth needs no credentials and makes no lookups.
new ResponsesGatewayStack(app, String(app.node.tryGetContext('stackName') ?? 'ResponsesGatewayStack'), {
  description: 'Serverless OpenAI Responses API gateway (Function URL, DynamoDB, Step Functions)',
  settings,
});
// cdk-nag's AWS Solutions rules run at synth; findings we accept are acknowledged in infra/nag.ts.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
