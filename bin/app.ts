import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AppStack } from '../lib/app-stack.js';

const app = new App();

// Explicit env so synth works offline; the placeholder account makes `cdk deploy` refuse to run
// against real credentials until a real account is given (context `account` or the CLI's default).
const account: string =
  app.node.tryGetContext('account') ?? process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000';
const region: string = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1';

// `-c allowedEventAccounts=111111111111,222222222222` or a JSON array in cdk.json.
const allowed: unknown = app.node.tryGetContext('allowedEventAccounts');
const allowedEventAccounts = (Array.isArray(allowed) ? allowed.map(String) : String(allowed ?? '').split(','))
  .map((id) => id.trim())
  .filter((id) => id !== '');

new AppStack(app, 'SpotOptimizer', { env: { account, region }, allowedEventAccounts });

// cdk-nag 3 is a policy-validation plugin (Aspects.of(app).add crashes synth with v3).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
