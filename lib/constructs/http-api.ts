import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { CorsHttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ROUTES_BY_GROUP } from '../../functions/route-table.js';
import {
  CORS_ALLOW_HEADERS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
  parseCorsOrigins,
} from '../../functions/shared/http/cors.js';
import { GROUP_TABLE_ACCESS, GROUPS } from '../../functions/shared/http/route.js';
import type { GroupName } from '../../functions/shared/http/route.js';
import { AppFunction } from './app-function.js';

/** The OpenAPI document route: served by its own Lambda, outside the route table it describes. */
/**
 * SDKs a group imports on first use, bundled apart (AppFunction `lazyModules`): Secrets Manager for
 * the admin token (agent requests never read it), SQS for the admin's dead-letter queue depth.
 */
const GROUP_LAZY_MODULES = (group: string, routes: readonly { auth: string }[]): string[] => [
  ...(routes.some((route) => route.auth !== 'none') ? ['shared/http/secrets-sdk.ts'] : []),
  ...(group === 'admin' ? ['admin/sqs-sdk.ts'] : []),
];

export const OPENAPI_ROUTE = { method: 'GET', path: '/openapi.json' } as const;

/**
 * The groups the v4 agent calls (routes marked `wire`, API.md's agent wire contract): their Lambdas
 * get reserved concurrency, so a flood on dashboard or admin routes cannot take the account's
 * concurrency they need (and the agents' own traffic cannot starve the rest beyond its reservation).
 */
export const AGENT_FACING_GROUPS: readonly GroupName[] = GROUPS.filter((g) => Object.values(ROUTES_BY_GROUP[g]).some((r) => r.wire));

/**
 * The console Lambda's package also holds the built console (functions/console/build.ts, run by
 * the same esbuild after the handler is bundled): `console-assets/` beside index.mjs.
 */
const buildConsoleAssets = (inputDir: string, outputDir: string): string[] => [
  `node --import tsx ${JSON.stringify(`${inputDir}/bin/build-console.ts`)} ${JSON.stringify(`${outputDir}/console-assets`)}`,
];

/**
 * The OpenAPI document is generated when the function is bundled (bin/openapi.ts, from the same
 * route table) and shipped beside index.mjs: the function serves a file instead of building every
 * route's JSON Schema in its cold start.
 */
const buildOpenApiDocumentFile = (inputDir: string, outputDir: string): string[] => [
  `node --import tsx ${JSON.stringify(`${inputDir}/bin/openapi.ts`)} --out ${JSON.stringify(`${outputDir}/openapi.json`)}`,
];

export interface ControlPlaneApiProps {
  readonly table: ITable;
  readonly adminSecret: ISecret;
  /** Stage throttling (API.md §1.1: 2,000 rps, burst 4,000 by default; then 429). */
  readonly throttle: { readonly rate: number; readonly burst: number };
  /** Reserved concurrency of each agent-facing group's Lambda (0: none). */
  readonly agentReservedConcurrency: number;
  readonly logRetention: RetentionDays;
  /**
   * Origins whose browsers may call the API (CORS preflights answered by API Gateway), e.g. a
   * customer's own frontend. None by default; falls back to the `corsOrigins` context value
   * (comma-separated or a JSON array). The console itself is same-origin and needs none.
   */
  readonly corsOrigins?: readonly string[];
}

const pascal = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/**
 * The HTTP API: one Lambda per endpoint group, one route per route-table entry (no path is written
 * here), the `$default` stage only (API.md §1.1: the agent drops any stage prefix), stage throttling
 * and JSON access logs. No gateway authorizer: auth runs in the Lambda middleware so that register
 * can take its client token from the body.
 */
export class ControlPlaneApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly groupFunctions: Record<GroupName, AppFunction>;
  readonly openApiFunction: AppFunction;
  /** Base URL of the `$default` stage, ending in `/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ControlPlaneApiProps) {
    super(scope, id);
    const { rate, burst } = props.throttle;
    if (!(Number.isInteger(rate) && rate > 0 && Number.isInteger(burst) && burst >= rate)) {
      throw new Error(`invalid throttle ${rate}/${burst}: positive integers with burst >= rate expected`);
    }

    const corsOrigins = parseCorsOrigins(props.corsOrigins ?? this.node.tryGetContext('corsOrigins'));
    this.api = new HttpApi(this, 'Api', {
      description: 'Spot Optimizer control plane HTTP API',
      // The default stage has no throttle or access-log options: the stage is added below instead.
      createDefaultStage: false,
      ...(corsOrigins.length
        ? {
            corsPreflight: {
              allowOrigins: corsOrigins,
              allowHeaders: CORS_ALLOW_HEADERS,
              allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.DELETE, CorsHttpMethod.OPTIONS],
              exposeHeaders: CORS_EXPOSE_HEADERS,
              maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
            },
          }
        : {}),
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: rate, burstLimit: burst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            error: '$context.error.message',
          }),
        ),
      },
    });
    this.url = this.stage.url;

    const functions: Partial<Record<GroupName, AppFunction>> = {};
    for (const group of GROUPS) {
      const routes = Object.values(ROUTES_BY_GROUP[group]);
      const fn = new AppFunction(this, `${pascal(group)}Function`, {
        entry: `functions/${group}/handler.ts`,
        serviceName: group,
        description: `HTTP routes of the ${group} group`,
        logRetention: props.logRetention,
        ...(group === 'console' ? { afterBundling: buildConsoleAssets } : {}),
        lazyModules: GROUP_LAZY_MODULES(group, routes),
        ...(AGENT_FACING_GROUPS.includes(group) ? { reservedConcurrency: props.agentReservedConcurrency } : {}),
      });
      fn.bindTable(props.table, GROUP_TABLE_ACCESS[group]);
      // Only groups with an authenticated route need the admin token (health and `GET /` do not).
      if (routes.some((route) => route.auth !== 'none')) fn.bindSecret(props.adminSecret);

      const integration = this.integrationFor(group, fn);
      for (const route of routes) {
        if (route.group !== group) {
          throw new Error(
            `route ${route.operationId} declares group ${route.group} but is listed under ${group}`,
          );
        }
        this.addRoute(route.operationId, route.method, route.path, integration);
      }
      functions[group] = fn;
    }
    this.groupFunctions = functions as Record<GroupName, AppFunction>;

    this.openApiFunction = new AppFunction(this, 'OpenApiFunction', {
      entry: 'functions/openapi/handler.ts',
      serviceName: 'openapi',
      description: 'Serves the OpenAPI document generated from the route table',
      logRetention: props.logRetention,
      afterBundling: buildOpenApiDocumentFile,
    });
    this.addRoute(
      'getOpenApiDocument',
      OPENAPI_ROUTE.method,
      OPENAPI_ROUTE.path,
      this.integrationFor('openapi', this.openApiFunction),
    );

    // Routes are children of the L2 api, so this covers every route and nothing else.
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Auth runs in the Lambda middleware by design (API.md §1.1): register reads its client token from the body.',
    });
  }

  private integrationFor(name: string, fn: AppFunction): HttpLambdaIntegration {
    // One invoke permission per function (not per route) keeps the resource policy small.
    return new HttpLambdaIntegration(`${pascal(name)}Integration`, fn, { scopePermissionToRoute: false });
  }

  private addRoute(id: string, method: string, path: string, integration: HttpLambdaIntegration): void {
    new HttpRoute(this.api, id, {
      httpApi: this.api,
      routeKey: HttpRouteKey.with(path, HttpMethod[method as keyof typeof HttpMethod]),
      integration,
    });
  }
}
