import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DeployedFunction {
  memoryMb: number;
  architecture: string;
}

/**
 * Memory and architecture of every Lambda as the CDK stack configures them, keyed by
 * `POWERTOOLS_SERVICE_NAME` (the group, `ec2-events`, or the job name): the stack is synthesised
 * in-process (bundling skipped) and its template read, so the bench prices what would be deployed.
 */
export async function deployedFunctions(): Promise<Map<string, DeployedFunction>> {
  const { App } = await import('aws-cdk-lib');
  const { AppStack } = await import('../../lib/app-stack.js');
  const outdir = mkdtempSync(join(tmpdir(), 'so-capacity-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new AppStack(app, 'CapacityBench', { env: { account: '123456789012', region: 'us-east-1' } });
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const out = new Map<string, DeployedFunction>();
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const p = resource.Properties ?? {};
      const service = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME;
      if (typeof service !== 'string') continue;
      out.set(service, {
        // CloudFormation's default when MemorySize is absent.
        memoryMb: typeof p.MemorySize === 'number' ? p.MemorySize : 128,
        architecture: Array.isArray(p.Architectures) ? String(p.Architectures[0]) : 'x86_64',
      });
    }
    return out;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
