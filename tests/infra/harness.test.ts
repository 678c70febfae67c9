/**
 * The harness itself, on small throwaway apps: it applies the platform's own stack transformations, and everything it
 * cannot fake (a provider function, a CLI RPC method, a missing handler, a top-level import) fails the deploy with a
 * message that names it, instead of passing half-mocked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeInvoke, fakeResource, policyDocumentJson } from './fakes.ts';
import { deployStage, evaluateApp, parseStatements, PLATFORM } from './harness.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A throwaway app: sst.config.ts with `run` as the body of run(), and an existing handler functions/ok/handler.ts. */
function app(run: string, options: { app?: string; header?: string } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-infra-fixture-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'functions', 'ok'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'functions', 'ok', 'handler.ts'),
    'export const handler = async () => ({ ok: true });\n',
  );
  const config = path.join(dir, 'sst.config.ts');
  fs.writeFileSync(
    config,
    `${options.header ?? ''}\nexport default $config({\n  app(input) {\n    return ${options.app ?? "{ name: 'fixture', home: 'aws', removal: input?.stage === 'production' ? 'retain' : 'remove' }"};\n  },\n  async run() {\n${run}\n  },\n});\n`,
  );
  return config;
}

describe('offline deploy of a small app', () => {
  it('builds its function through Runtime.Build, zips it to the bootstrap bucket and applies run.ts transformations', async () => {
    const config = app(
      `    const bucket = new sst.aws.Bucket('Files');
    const fn = new sst.aws.Function('Ok', { handler: 'functions/ok/handler.handler', link: [bucket] });
    return { fn: fn.name };`,
      { app: "{ name: 'fixture', home: 'aws' }" },
    );
    const infra = await deployStage('dev', { config });
    expect(infra.app).toMatchObject({ name: 'fixture', stage: 'dev', removal: 'retain', protect: false });
    expect(infra.build('Ok')).toMatchObject({
      functionID: 'Ok',
      handler: 'functions/ok/handler.handler',
      runtime: 'nodejs24.x',
      properties: { architecture: 'x86_64' },
    });
    expect(infra.lambda('Ok').inputs).toMatchObject({
      s3Bucket: 'sst-asset-123456789012-mock',
      s3Key: expect.stringMatching(/^assets\/Ok-code-[0-9a-f]{64}\.zip$/),
      handler: 'functions/ok/handler.handler',
    });
    // removal defaults to "retain": platform/src/auto/run.ts marks buckets retainOnDelete.
    expect(infra.part('sst:aws:Bucket', 'Files', 'aws:s3/bucket:Bucket').options.retainOnDelete).toBe(true);
    const bucketArn = infra.part('sst:aws:Bucket', 'Files', 'aws:s3/bucket:Bucket').state.arn;
    expect(infra.functionStatements('Ok')).toEqual([
      { effect: 'Allow', actions: ['s3:*'], resources: [bucketArn, `${String(bucketArn)}/*`].sort() },
    ]);
    expect(infra.outputs.fn).toMatch(/^fixture-dev-OkFunction-[a-z]{8}$/);
  });
});

describe('what the harness cannot fake fails the deploy, naming it', () => {
  it('a provider function without a fake', async () => {
    const config = app(`    const vpc = aws.ec2.getVpcOutput({ default: true });
    new aws.s3.Bucket('Tagged', { tags: { vpc: vpc.id } });
    return {};`);
    await expect(deployStage('dev', { config })).rejects.toThrow(
      /no fake for provider function "aws:ec2\/getVpc:getVpc"/,
    );
  });

  it('a CLI RPC method without a stub', async () => {
    const config = app(`    const { rpc } = await import('${path.join(PLATFORM, 'src/components/rpc/rpc.ts')}');
    await rpc.call('Provider.Aws.Appsync', {});
    return {};`);
    await expect(deployStage('dev', { config })).rejects.toThrow(
      /CLI RPC method "Provider\.Aws\.Appsync" is not stubbed/,
    );
  });

  it('a handler whose file does not exist', async () => {
    const config = app(`    new sst.aws.Function('Broken', { handler: 'functions/missing/handler.handler' });
    return {};`);
    await expect(deployStage('dev', { config })).rejects.toThrow(
      /Could not find file for handler "functions\/missing\/handler\.handler"/,
    );
  });

  it('a top-level import in sst.config.ts (the CLI refuses it too)', async () => {
    const config = app('    return {};', { header: "import path from 'node:path';\nvoid path;" });
    await expect(evaluateApp('dev', config)).rejects.toThrow(/ErrTopLevelImport/);
  });
});

describe('fakes', () => {
  it('render policy documents like the AWS provider (single values collapsed)', () => {
    const json = policyDocumentJson([
      { effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] },
      {
        effect: 'Deny',
        actions: ['s3:DeleteObject', 's3:PutObject'],
        resources: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
        conditions: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      },
    ]);
    expect(JSON.parse(json)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
        {
          Effect: 'Deny',
          Action: ['s3:DeleteObject', 's3:PutObject'],
          Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
    expect(parseStatements(json)[1]).toEqual({
      effect: 'Deny',
      actions: ['s3:DeleteObject', 's3:PutObject'],
      resources: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('give resources deterministic ids, names and ARNs', () => {
    expect(fakeResource('aws:kinesis/stream:Stream', 'EventsStream', { name: 'tributary-ci-events' }).state.arn).toBe(
      'arn:aws:kinesis:us-east-1:123456789012:stream/tributary-ci-events',
    );
    expect(fakeResource('aws:s3/bucket:Bucket', 'B', {})).toEqual(fakeResource('aws:s3/bucket:Bucket', 'B', {}));
    expect(fakeResource('aws:s3/bucket:Bucket', 'B', { bucket: 'x' }).state).toMatchObject({
      bucket: 'x',
      arn: 'arn:aws:s3:::x',
    });
  });

  it('refuse provider functions they do not know', () => {
    expect(() => fakeInvoke('aws:ec2/getVpc:getVpc', {})).toThrow(
      /no fake for provider function "aws:ec2\/getVpc:getVpc"/,
    );
  });
});
