import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Runtime, RuntimeFamily } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../functions/jobs/job-table.js';
import { ROUTE_TABLE, ROUTES_BY_GROUP } from '../../functions/route-table.js';
import { TABLE_SCHEMA } from '../../functions/shared/db/table-schema.js';
import { OTHER_FUNCTION_TABLE_ACCESS, TABLE_ACTIONS, type TableAccess } from '../../functions/shared/db/table-access.js';
import { GROUP_TABLE_ACCESS, GROUPS, routeKey } from '../../functions/shared/http/route.js';
import { AppStack } from '../../lib/app-stack.js';
import { AGENT_FACING_GROUPS } from '../../lib/constructs/http-api.js';
import { DEFAULT_AGENT_RESERVED_CONCURRENCY, DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY } from '../../lib/settings.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped CloudFormation JSON
type Json = any;

const ACCOUNT = '123456789012';
const OTHER_ACCOUNTS = ['111111111111', '222222222222'];

let outdir: string;
let synthError: unknown;
let template: Template;
let resources: Record<string, Json>;

/** The newest `nodejsNN.x` aws-cdk-lib knows, computed independently of the code under test. */
const newestNodeRuntime = Runtime.ALL.filter(
  (rt) => rt.family === RuntimeFamily.NODEJS && /^nodejs\d+\.x$/.test(rt.name),
)
  .map((rt) => rt.name)
  .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
  .at(-1);

const ofType = (type: string): [string, Json][] =>
  Object.entries(resources).filter(([, r]) => r.Type === type);

/** Lambda functions keyed by POWERTOOLS_SERVICE_NAME (built once; services must be unique). */
let functions: Map<string, { id: string; props: Json }>;
let functionCount: number;

const fn = (service: string): { id: string; props: Json } => {
  const found = functions.get(service);
  if (!found) throw new Error(`no function with POWERTOOLS_SERVICE_NAME=${service}`);
  return found;
};

/** Logical id of the resource a `Fn::GetAtt [id, 'Arn']` points at. */
const getAttId = (value: Json): string => {
  expect(value?.['Fn::GetAtt']?.[1]).toBe('Arn');
  return value['Fn::GetAtt'][0];
};

/** All policy statements attached to a function's role. */
const statementsOf = (functionId: string): Json[] => {
  const roleId = resources[functionId].Properties.Role['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
};
const actionsOf = (functionId: string): string[] =>
  statementsOf(functionId).flatMap((s) => [s.Action].flat());

const tableId = (): string => ofType('AWS::DynamoDB::Table')[0]![0];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'infra-test-'));
  // Bundling skipped: template tests need neither esbuild runs nor assets.
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AppStack(app, 'TestStack', {
    env: { account: ACCOUNT, region: 'us-east-1' },
    allowedEventAccounts: [...OTHER_ACCOUNTS, ACCOUNT],
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (error) {
    // cdk-nag violations throw after the assembly is written: the template tests still run.
    synthError = error;
  }
  template = Template.fromJSON(JSON.parse(readFileSync(join(outdir, `${stack.templateFile}`), 'utf8')));
  resources = template.toJSON().Resources;
  const lambdas = ofType('AWS::Lambda::Function');
  functionCount = lambdas.length;
  functions = new Map(
    lambdas.map(([id, r]) => [
      r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
      { id, props: r.Properties },
    ]),
  );
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('synthesises with no unacknowledged finding', () => {
    // Shows the whole report (rule, construct path) when a finding is not acknowledged.
    expect(synthError === undefined ? undefined : String(synthError)).toBeUndefined();
    const reportFile = join(outdir, 'validation-report.json');
    if (existsSync(reportFile)) {
      const report = JSON.parse(readFileSync(reportFile, 'utf8'));
      const violations = report.pluginReports.flatMap((plugin: Json) =>
        plugin.violations.map(
          (v: Json) => `${v.ruleName} @ ${v.violatingConstructs.map((c: Json) => c.constructPath)}`,
        ),
      );
      expect(violations).toEqual([]);
    }
  });
});

describe('table', () => {
  it('is the one table built from TABLE_SCHEMA', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const table = resources[tableId()];
    const p = table.Properties;
    expect(p.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toHaveLength(3);
    expect(
      p.GlobalSecondaryIndexes.map((gsi: Json) => ({
        name: gsi.IndexName,
        keys: gsi.KeySchema,
        projection: gsi.Projection.ProjectionType,
      })),
    ).toEqual(
      TABLE_SCHEMA.globalIndexes.map((gsi) => ({
        name: gsi.indexName,
        keys: [
          { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
          { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
        ],
        projection: 'ALL',
      })),
    );
    for (const attribute of p.AttributeDefinitions) expect(attribute.AttributeType).toBe('S');
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    // SSEEnabled without a key id: the AWS-managed aws/dynamodb KMS key.
    expect(p.SSESpecification).toEqual({ SSEEnabled: true });
    expect(p.TableName).toBeUndefined();
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('HTTP API', () => {
  it('has exactly one route per route-table entry, plus GET /openapi.json', () => {
    const keys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    const expected = [...ROUTE_TABLE.map(routeKey), 'GET /openapi.json'];
    expect(new Set(expected).size).toBe(expected.length);
    expect([...keys].sort()).toEqual([...expected].sort());
  });

  it("sends every route to its group's Lambda, with no gateway authorizer", () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    const serviceOfFunction = new Map([...functions].map(([service, f]) => [f.id, service]));
    const groupOfKey = new Map<string, string>(ROUTE_TABLE.map((r) => [routeKey(r), r.group]));
    groupOfKey.set('GET /openapi.json', 'openapi');
    for (const [, route] of ofType('AWS::ApiGatewayV2::Route')) {
      const p = route.Properties;
      expect(p.AuthorizationType ?? 'NONE').toBe('NONE');
      const integrationId = p.Target['Fn::Join'][1][1].Ref;
      const integration = resources[integrationId].Properties;
      expect(integration.IntegrationType).toBe('AWS_PROXY');
      expect(integration.PayloadFormatVersion).toBe('2.0');
      expect(serviceOfFunction.get(getAttId(integration.IntegrationUri))).toBe(groupOfKey.get(p.RouteKey));
    }
  });

  it('deploys the $default stage only, throttled and access-logged', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const p = stages[0]![1].Properties;
    expect(p.StageName).toBe('$default');
    expect(p.AutoDeploy).toBe(true);
    expect(p.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThanOrEqual(1000);
    expect(p.DefaultRouteSettings.ThrottlingRateLimit).toBe(2000);
    expect(p.DefaultRouteSettings.ThrottlingBurstLimit).toBe(4000);
    expect(resources[getAttId(p.AccessLogSettings.DestinationArn)].Type).toBe('AWS::Logs::LogGroup');
    const format = JSON.parse(p.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLatency: '$context.responseLatency',
      integrationLatency: '$context.integrationLatency',
    });
  });
});

describe('functions', () => {
  const httpServices = [...GROUPS, 'openapi'];

  it('has one per group, the OpenAPI doc, the EC2 consumer and one per job', () => {
    expect(functions.size).toBe(functionCount);
    const services = [...functions.keys()].sort();
    expect(services).toEqual([...httpServices, 'ec2-events', ...JOBS.map((job) => job.name)].sort());
  });

  it('runs every function on ARM64 and the newest Node runtime, ESM, traced, with a log group', () => {
    expect(newestNodeRuntime).toBeDefined();
    for (const [service, { props }] of functions) {
      expect(props.Architectures, service).toEqual(['arm64']);
      expect(props.Runtime, service).toBe(newestNodeRuntime);
      expect(props.Handler, service).toBe('index.handler');
      expect(props.TracingConfig, service).toEqual({ Mode: 'Active' });
      expect(props.MemorySize, service).toBe(512);
      expect(props.FunctionName, service).toBeUndefined();
      expect(resources[props.LoggingConfig.LogGroup.Ref].Properties.RetentionInDays, service).toBe(30);
      expect(props.Environment.Variables, service).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: 'SpotOptimizer',
        NODE_OPTIONS: '--enable-source-maps',
        APP_VERSION: expect.any(String),
      });
    }
  });

  it('keeps HTTP (and EC2 event) Lambdas within 25 s; jobs get 5 min', () => {
    for (const service of [...httpServices, 'ec2-events'])
      expect(fn(service).props.Timeout, service).toBeLessThanOrEqual(25);
    for (const job of JOBS) expect(fn(job.name).props.Timeout, job.name).toBe(300);
  });

  it('binds the table and the admin secret by what each group needs', () => {
    const table = tableId();
    for (const group of GROUPS.filter((g) => g !== 'console')) {
      const { id, props } = fn(group);
      const env = props.Environment.Variables;
      expect(env.TABLE_NAME, group).toEqual({ Ref: table });
      const authenticates = Object.values(ROUTES_BY_GROUP[group]).some((r) => r.auth !== 'none');
      if (authenticates) {
        expect(env.ADMIN_TOKEN_SECRET_ARN, group).toEqual({ Ref: expect.stringMatching(/^AdminToken/) });
        expect(actionsOf(id), group).toContain('secretsmanager:GetSecretValue');
      } else {
        expect(env.ADMIN_TOKEN_SECRET_ARN, group).toBeUndefined();
      }
    }
    // The console serves its built assets: no table, no secret, no AWS access at all.
    for (const service of ['openapi', 'console']) {
      const f = fn(service);
      expect(f.props.Environment.Variables.TABLE_NAME, service).toBeUndefined();
      expect(f.props.Environment.Variables.ADMIN_TOKEN_SECRET_ARN, service).toBeUndefined();
      expect(actionsOf(f.id).some((a) => a.startsWith('dynamodb:') || a.startsWith('secretsmanager:')), service).toBe(false);
    }
    const openapi = fn('openapi');
    expect(openapi.props.Environment.Variables.TABLE_NAME).toBeUndefined();
    expect(openapi.props.Environment.Variables.ADMIN_TOKEN_SECRET_ARN).toBeUndefined();
    expect(
      actionsOf(openapi.id).some((a) => a.startsWith('dynamodb:') || a.startsWith('secretsmanager:')),
    ).toBe(false);
  });

  it('generates the admin token secret (48 characters, no punctuation)', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    expect(secrets[0]![1].Properties.GenerateSecretString).toMatchObject({
      ExcludePunctuation: true,
      PasswordLength: 48,
    });
    expect(secrets[0]![1].Properties.Name).toBeUndefined();
  });
});

describe('EC2 event rules', () => {
  const expectedPatterns = [
    { 'source': ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
    { 'source': ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] },
    {
      'source': ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      'detail': { state: ['running', 'stopped', 'shutting-down', 'terminated'] },
    },
    {
      'source': ['aws.health'],
      'detail-type': ['AWS Health Event'],
      'detail': { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
    },
  ];

  const dlqId = (): string => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues).toHaveLength(1);
    return queues[0]![0];
  };

  it('has the four rules on the default bus with exact patterns, to ec2-events with retries and the DLQ', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules.map(([, r]) => r.Properties.EventPattern)).toEqual(expect.arrayContaining(expectedPatterns));
    expect(rules).toHaveLength(4);
    const consumer = fn('ec2-events').id;
    for (const [id, rule] of rules) {
      expect(rule.Properties.EventBusName, id).toBeUndefined();
      expect(rule.Properties.State ?? 'ENABLED', id).toBe('ENABLED');
      expect(rule.Properties.Targets, id).toHaveLength(1);
      const target = rule.Properties.Targets[0];
      expect(getAttId(target.Arn)).toBe(consumer);
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
      expect(getAttId(target.DeadLetterConfig.Arn)).toBe(dlqId());
    }
  });

  it('sends handler failures to the same DLQ after 2 retries', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    expect(configs).toHaveLength(1);
    const p = configs[0]![1].Properties;
    expect(p.FunctionName).toEqual({ Ref: fn('ec2-events').id });
    expect(p.MaximumRetryAttempts).toBe(2);
    expect(p.MaximumEventAgeInSeconds).toBe(3600);
    expect(getAttId(p.DestinationConfig.OnFailure.Destination)).toBe(dlqId());
  });

  it('encrypts the DLQ and denies non-TLS access', () => {
    const queue = resources[dlqId()].Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    const policies = ofType('AWS::SQS::QueuePolicy');
    const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('gives the consumer its env and the admin function DLQ-depth access', () => {
    const consumerEnv = fn('ec2-events').props.Environment.Variables;
    expect(consumerEnv.EVENTS_DLQ_URL).toEqual({ Ref: dlqId() });
    expect(consumerEnv.STACK_ACCOUNT).toBe(ACCOUNT);
    expect(consumerEnv.TABLE_NAME).toEqual({ Ref: tableId() });
    const admin = fn('admin');
    expect(admin.props.Environment.Variables.EVENTS_DLQ_URL).toEqual({ Ref: dlqId() });
    expect(statementsOf(admin.id)).toContainEqual(
      expect.objectContaining({
        Action: 'sqs:GetQueueAttributes',
        Resource: { 'Fn::GetAtt': [dlqId(), 'Arn'] },
      }),
    );
  });

  it('adds a default-bus policy per other allowed account, for the four forwarded signals only', () => {
    const policies = ofType('AWS::Events::EventBusPolicy').map(([, p]) => p.Properties);
    expect(policies).toHaveLength(OTHER_ACCOUNTS.length);
    const ids = new Set(policies.map((p) => p.StatementId));
    expect(ids.size).toBe(OTHER_ACCOUNTS.length);
    for (const p of policies) {
      expect(p.EventBusName).toBe('default');
      expect(p.StatementId.length).toBeLessThanOrEqual(64);
      expect(p.Statement).toMatchObject({
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Condition: {
          StringEquals: {
            'events:source': ['aws.ec2', 'aws.health'],
            'events:detail-type': expectedPatterns.map((pattern) => pattern['detail-type'][0]),
          },
        },
      });
    }
    const principals = policies.map((p) => JSON.stringify(p.Statement.Principal)).join();
    for (const account of OTHER_ACCOUNTS) expect(principals).toContain(account);
    expect(principals).not.toContain(ACCOUNT);
  });

  it('matches events whatever their original region and account (forwarded ones keep theirs)', () => {
    for (const [id, rule] of ofType('AWS::Events::Rule')) {
      expect(Object.keys(rule.Properties.EventPattern).sort(), id).toEqual(
        expect.not.arrayContaining(['account', 'region']),
      );
    }
  });
});

describe('CORS', () => {
  it('answers no preflight by default', () => {
    const api = ofType('AWS::ApiGatewayV2::Api')[0]![1];
    expect(api.Properties.CorsConfiguration).toBeUndefined();
  });

  it('answers preflights for the operator-configured origins (prop or context), with the Authorization header', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'infra-cors-')), context: { 'aws:cdk:bundling-stacks': [], 'corsOrigins': 'https://app.example.com,http://localhost:5173' } });
    const stack = new AppStack(app, 'CorsStack', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const cors = Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Api');
    const config = (Object.values(cors)[0] as Json).Properties.CorsConfiguration;
    expect(config.AllowOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.AllowHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'if-match']));
    expect(config.AllowMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']));
    expect(config.AllowCredentials ?? false).toBe(false);
    expect(() => new AppStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bad', { corsOrigins: ['*'] })).toThrow(/exact origin/);
  });
});

describe('schedules', () => {
  it('has one EventBridge Scheduler schedule per job with the job-table expression', () => {
    const schedules = ofType('AWS::Scheduler::Schedule').map(([, s]) => s.Properties);
    expect(schedules).toHaveLength(JOBS.length);
    for (const job of JOBS) {
      const target = fn(job.name).id;
      const matching = schedules.filter((s) => getAttId(s.Target.Arn) === target);
      expect(matching, job.name).toHaveLength(1);
      expect(matching[0].ScheduleExpression, job.name).toBe(job.schedule);
      expect(matching[0].State ?? 'ENABLED', job.name).toBe('ENABLED');
      expect(matching[0].Name, job.name).toBeUndefined();
      expect(fn(job.name).props.Environment.Variables.TABLE_NAME).toEqual({ Ref: tableId() });
    }
  });

  it('grants each job exactly the extra AWS actions the job table declares, and no other job any EC2 or Pricing access', () => {
    expect(actionsOf(fn('pricing-consolidation').id)).toContain('ec2:DescribeSpotPriceHistory');
    expect(actionsOf(fn('market-prices').id)).toEqual(expect.arrayContaining(['ec2:DescribeSpotPriceHistory', 'pricing:GetProducts']));
    for (const job of JOBS) {
      const market = actionsOf(fn(job.name).id).filter((a) => a.startsWith('ec2:') || a.startsWith('pricing:'));
      expect(market, job.name).toEqual(job.awsActions ?? []);
    }
  });
});

describe('least privilege on the table', () => {
  /** The functions and their declared table access: one declaration per group, per job, and the other two. */
  const declared = (): [string, TableAccess][] => [
    ...GROUPS.map((g): [string, TableAccess] => [g, GROUP_TABLE_ACCESS[g]]),
    ...JOBS.map((j): [string, TableAccess] => [j.name, j.table]),
    ...Object.entries(OTHER_FUNCTION_TABLE_ACCESS),
  ];
  const tableStatements = (service: string) =>
    statementsOf(fn(service).id).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')));

  it('every function is declared, and gets exactly the DynamoDB actions of its level, on the table and its indexes only', () => {
    expect(declared().map(([s]) => s).sort()).toEqual([...functions.keys()].sort());
    const table = tableId();
    for (const [service, access] of declared()) {
      const statements = tableStatements(service);
      const actions = statements.flatMap((st) => [st.Action].flat()).sort();
      expect(actions, service).toEqual([...TABLE_ACTIONS[access]].sort());
      for (const st of statements) {
        expect(st.Effect).toBe('Allow');
        expect(st.Resource, service).toEqual([
          { 'Fn::GetAtt': [table, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/*']] },
        ]);
      }
      expect(fn(service).props.Environment.Variables.TABLE_NAME !== undefined, service).toBe(access !== 'none');
    }
  });

  it('no function may Scan, describe the table or read its stream; read-only groups cannot write', () => {
    const all = [...functions.values()].flatMap((f) => actionsOf(f.id));
    for (const forbidden of ['dynamodb:Scan', 'dynamodb:DescribeTable', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:*', 'dynamodb:PartiQLSelect']) {
      expect(all, forbidden).not.toContain(forbidden);
    }
    for (const group of ['health', 'analytics', 'events', 'insights', 'instances'] as const) {
      expect(GROUP_TABLE_ACCESS[group], group).toBe('read');
      expect(actionsOf(fn(group).id).filter((a) => a.startsWith('dynamodb:')).sort(), group).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
    }
  });
});

describe('reserved concurrency', () => {
  it('the agent-facing groups and the EC2 events consumer have it; dashboards, admin and jobs share the rest', () => {
    expect(AGENT_FACING_GROUPS).toEqual(['agents', 'commands', 'replicas', 'emergency', 'reporting']);
    for (const group of AGENT_FACING_GROUPS) {
      expect(fn(group).props.ReservedConcurrentExecutions, group).toBe(DEFAULT_AGENT_RESERVED_CONCURRENCY);
    }
    expect(fn('ec2-events').props.ReservedConcurrentExecutions).toBe(DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY);
    const others = [...functions.keys()].filter((s) => !AGENT_FACING_GROUPS.includes(s as never) && s !== 'ec2-events');
    for (const service of others) expect(fn(service).props.ReservedConcurrentExecutions, service).toBeUndefined();
    // The account keeps at least 100 unreserved of the default 1,000 (lib/OPERATIONS.md has the arithmetic).
    const reserved = AGENT_FACING_GROUPS.length * DEFAULT_AGENT_RESERVED_CONCURRENCY + DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY;
    expect(1000 - reserved).toBeGreaterThanOrEqual(100);
  });

  it('follows the context knobs; 0 reserves nothing', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new AppStack(app, 'Knobs', { env: { account: ACCOUNT, region: 'us-east-1' }, agentReservedConcurrency: 0, ec2EventsReservedConcurrency: 7 });
    const lambdas = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::Lambda::Function');
    const reservations = lambdas.map((l) => l.Properties.ReservedConcurrentExecutions).filter((r) => r !== undefined);
    expect(reservations).toEqual([7]);
  });
});

describe('outputs', () => {
  it('exports what the operator, the forwarders and npm run dlq need', () => {
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual([
      'AdminTokenSecretArn',
      'AlarmTopicArn',
      'ApiUrl',
      'DashboardName',
      'DeadLetterQueueUrl',
      'Ec2EventsFunctionArn',
      'EventBusArn',
      'TableName',
    ]);
    expect(outputs.DeadLetterQueueUrl.Value).toEqual({ Ref: ofType('AWS::SQS::Queue')[0]![0] });
    expect(outputs.Ec2EventsFunctionArn.Value).toEqual({ 'Fn::GetAtt': [fn('ec2-events').id, 'Arn'] });
    expect(JSON.stringify(outputs.EventBusArn.Value)).toContain(':event-bus/default');
    expect(outputs.TableName.Value).toEqual({ Ref: tableId() });
    expect(outputs.AdminTokenSecretArn.Value).toEqual({ Ref: expect.stringMatching(/^AdminToken/) });
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain('execute-api');
  });
});
