import { type IncomingMessage, request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { NO_BROWSER_ORIGIN, loopbackLauncherClasspath } from '../../../bin/support/dynamodb-local.js';

/**
 * DynamoDB Local (the test run's own instance, started like `npm start` starts it) is reachable
 * from this machine only, and from no browser page: bound to 127.0.0.1 through the loopback
 * launcher (the jar alone binds every interface and has no host option), CORS limited to an
 * origin no page can have (its default is `*`).
 */
const endpoint = new URL(process.env.DYNAMODB_ENDPOINT as string);
const port = Number(endpoint.port);

/** Resolves to the socket error code, or 'connected'. */
const tryConnect = (host: string) =>
  new Promise<string>((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });

const otherAddresses = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
  .map((a) => a?.address as string);

describe('DynamoDB Local is reachable from this machine only', () => {
  it('the loopback launcher builds here (javac is on this machine)', () => {
    expect(loopbackLauncherClasspath()).toBeTruthy();
  });

  it('answers on 127.0.0.1', async () => {
    expect(await tryConnect('127.0.0.1')).toBe('connected');
  });

  it.skipIf(otherAddresses.length === 0)('refuses connections on the machine\'s other addresses', async () => {
    for (const address of otherAddresses) expect(await tryConnect(address), address).not.toBe('connected');
  });

  it('does not allow a browser page\'s origin in its CORS preflight', async () => {
    // node:http, not fetch: fetch would not send the Origin header a browser sends.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(endpoint, {
        method: 'OPTIONS',
        headers: {
          'origin': 'https://evil.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-amz-target',
        },
      });
      req.once('response', (r) => {
        r.resume();
        resolve(r);
      });
      req.once('error', reject);
      req.end();
    });
    // Without Access-Control-Allow-Origin for the page's origin, the browser never sends the request.
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(NO_BROWSER_ORIGIN.endsWith('.invalid')).toBe(true);
  });
});
