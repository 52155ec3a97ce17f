import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AppStack } from '../lib/app-stack.js';
import { ForwarderStack } from '../lib/forwarder-stack.js';
import { readSettings } from '../lib/settings.js';

const app = new App();

// Every knob comes from CDK context (cdk.json or `-c name=value`), validated in lib/settings.ts and
// documented in lib/OPERATIONS.md. Explicit env so synth works offline; the placeholder account
// makes `cdk deploy` refuse to run against real credentials until a real account is given.
const settings = readSettings((name) => app.node.tryGetContext(name));

new AppStack(app, 'SpotOptimizer', {
  env: { account: settings.account, region: settings.region },
  throttle: settings.throttle,
  logRetention: settings.logRetention,
  logLevel: settings.logLevel,
  allowedEventAccounts: settings.allowedEventAccounts,
  ...(settings.eventOrganizationId ? { eventOrganizationId: settings.eventOrganizationId } : {}),
  ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
  corsOrigins: settings.corsOrigins,
  agentReservedConcurrency: settings.agentReservedConcurrency,
  ec2EventsReservedConcurrency: settings.ec2EventsReservedConcurrency,
});

// Environment-agnostic on purpose: one template for `cdk deploy` in every region/account and for StackSets.
new ForwarderStack(app, 'SpotOptimizerForwarder');

// cdk-nag 3 is a policy-validation plugin (Aspects.of(app).add crashes synth with v3).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
