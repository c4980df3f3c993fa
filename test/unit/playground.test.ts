import { describe, expect, it } from '@jest/globals';
import { playgroundPage } from '../../src/http/playground.js';

describe('playgroundPage', () => {
  it('should embed its settings as JSON no header value can break out of', () => {
    const html = playgroundPage({ default: 'graphiql', headers: { Authorization: 'Bearer </script><script>alert(1)</script><!--' } }, '/graphql', 'abc');
    const scripts = html.match(/<script\b/g) ?? [];
    // The settings element and the five external scripts, nothing injected.
    expect(scripts).toHaveLength(6);
    expect(html).not.toContain('</script><script>alert');
    const json = /<script id="playground-config" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(json)).toMatchObject({ endpoint: '/graphql', headers: { Authorization: 'Bearer </script><script>alert(1)</script><!--' } });
  });

  it('should offer a login only when told the issuer, and key stored logins by the start', () => {
    const login = { issuer: 'http://127.0.0.1:4001', clientId: 'c@demo', scope: 'openid', projectId: '1', printedFor: 'road.runner' };
    const config = (html: string) => JSON.parse(/type="application\/json">(.*?)<\/script>/s.exec(html)![1]!) as Record<string, unknown>;
    expect(config(playgroundPage({ default: 'graphiql' }, '/graphql', 'x'))).not.toHaveProperty('login');
    expect(config(playgroundPage({ default: 'graphiql', login }, '/graphql', 'run1'))).toMatchObject({ login: { ...login, instance: 'run1' } });
  });
});
