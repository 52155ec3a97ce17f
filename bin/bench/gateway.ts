import type { AddressInfo } from 'node:net';
import { createLocalGateway, loadRoutesByGroup } from '../support/local-gateway.js';

/** The local API Gateway emulation on a free loopback port, for benchmarks. */
export async function startLocalGatewayForBench(): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const { routesByGroup } = await loadRoutesByGroup();
  const server = createLocalGateway({ routesByGroup });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
