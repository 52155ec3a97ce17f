import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach } from 'vitest';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ClientClass = new (...args: any[]) => any;
type Stubs<T extends Record<string, ClientClass>> = { [K in keyof T]: AwsClientStub<InstanceType<T[K]>> };

/**
 * aws-sdk-client-mock stubs of SDK client classes (every instance, as the code creates its own)
 * for one test file: reset before each test, restored after the file.
 */
export function mockAwsClients<T extends Record<string, ClientClass>>(classes: T): Stubs<T> {
  const stubs = Object.fromEntries(Object.entries(classes).map(([name, cls]) => [name, mockClient(cls)]));
  const all = Object.values(stubs) as Array<{ reset(): unknown; restore(): void }>;
  beforeEach(() => all.forEach((s) => s.reset()));
  afterAll(() => all.forEach((s) => s.restore()));
  return stubs as Stubs<T>;
}
