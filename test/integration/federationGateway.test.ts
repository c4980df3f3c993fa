import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { parse } from 'graphql';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * This server as a subgraph behind the JavaScript @apollo/gateway, over real HTTP: the gateway
 * refuses a supergraph whose auth directives are linked `for: SECURITY` (what Apollo Router
 * needs), so GRAPHQL_FEDERATION_AUTH_LINK=composed links them without it, and the subgraph
 * enforces every directive itself.
 */
let issuer: TestIssuer;
let subgraph: TestServer;
let gateway: ApolloServer;
let gatewayUrl: string;

/** The supergraph of one subgraph, composed from the SDL it serves, as rover would. */
async function supergraphOf(server: TestServer): Promise<string> {
  const res = await server.post('{ _service { sdl } }');
  const sdl = (res.body.data as { _service: { sdl: string } })._service.sdl;
  const { errors, supergraphSdl } = composeServices([{ name: 'api', typeDefs: parse(sdl), url: server.url }]);
  if (errors || !supergraphSdl) throw new Error(`composition failed: ${errors?.map((e) => e.message).join('; ')}`);
  return supergraphSdl;
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  subgraph = await startTestServer({ issuer, federation: true, federationAuthLink: 'composed' });
  gateway = new ApolloServer({
    gateway: new ApolloGateway({
      supergraphSdl: await supergraphOf(subgraph),
      // The gateway forwards the caller's Authorization header, as a router is told to.
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource({
          url,
          willSendRequest({ request, context }) {
            const authorization = (context as { authorization?: string }).authorization;
            if (authorization) request.http?.headers.set('authorization', authorization);
          },
        }),
    }),
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  }));
});

afterAll(async () => {
  await gateway.stop();
  await subgraph.close();
  await issuer.close();
});

async function viaGateway(query: string, headers: Record<string, string> = {}) {
  const res = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('the subgraph behind @apollo/gateway (GRAPHQL_FEDERATION_AUTH_LINK=composed)', () => {
  it('should answer a caller with a token through the gateway', async () => {
    const res = await viaGateway('{ hello me { id roles } adminGreeting }', bearer(await issuer.mintToken()));
    expect(res.body).toEqual({ data: { hello: 'Hello World!', me: { id: issuer.demoUser.sub, roles: ['admin'] }, adminGreeting: 'Hello, admin!' } });
  });

  it('should refuse what the subgraph refuses: an anonymous caller, and a caller lacking a role', async () => {
    const anonymous = await viaGateway('{ hello }');
    expect(anonymous.body.data ?? null).toBeNull();
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const noRoles = await issuer.mintToken({ user: { sub: '200000000000000077', username: 'nobody@demo.localhost' } });
    const forbidden = await viaGateway('{ adminGreeting }', bearer(noRoles));
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('should carry the directives into the supergraph, linked without for: SECURITY', async () => {
    const supergraph = await supergraphOf(subgraph);
    expect(supergraph).not.toMatch(/for: SECURITY/);
    expect(supergraph).toMatch(/hello: String! @authenticated/);
    expect(supergraph).toMatch(/adminGreeting: String! @hasRole\(roles: \["admin"\]\)/);
  });

  it('should need that setting: the gateway refuses the default link, which Apollo Router enforces', async () => {
    const routerSubgraph = await startTestServer({ issuer, federation: true });
    try {
      const supergraph = await supergraphOf(routerSubgraph);
      expect(supergraph).toContain('@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)');
      await expect(new ApolloGateway({ supergraphSdl: supergraph }).load()).rejects.toThrow(/is for: SECURITY but is unsupported/);
    } finally {
      await routerSubgraph.close();
    }
  });
});
