// A standards OAuth server for the integration tests: oidc-provider (a
// certified OpenID Provider, pinned by package-lock.json) on loopback over
// TLS, with the clients and grants the sidecar's client authentication and
// grant shapes need. Started by tests/integration/oauth_server.py.
//
// Usage: node server.mjs CONFIG.json
// CONFIG: { port, cert, key, clientCa, subjectToken, clients: [...] }
// It prints {"listening": port} once ready, then one JSON line per token
// request: status, client id, its authentication method, grant type, and
// the names (never the values) of the form's parameters.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import Provider, { errors } from 'oidc-provider';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `https://localhost:${cfg.port}`;
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function peerPem(ctx) {
  const cert = ctx.socket.getPeerX509Certificate?.();
  return cert ? cert.toString() : undefined;
}

const provider = new Provider(issuer, {
  clients: cfg.clients,
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post',
    'private_key_jwt', 'tls_client_auth'],
  scopes: ['api:read', 'api:write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    mTLS: {
      enabled: true,
      tlsClientAuth: true,
      getCertificate: peerPem,
      // The TLS layer checked the chain against clientCa.
      certificateAuthorized: (ctx) => ctx.socket.authorized === true,
      certificateSubjectMatches: (ctx, property, expected) =>
        property === 'tls_client_auth_subject_dn' &&
        new X509Certificate(peerPem(ctx)).subject === expected,
    },
  },
});

// Both grants take the ServiceAccount token the test configured and
// answer with an opaque access token for the authenticated client.
async function issue(ctx, presented) {
  if (presented !== cfg.subjectToken) {
    throw new errors.InvalidGrant('the presented token is not the one this server knows');
  }
  const token = new ctx.oidc.provider.ClientCredentials({
    client: ctx.oidc.client,
    scope: ctx.oidc.params.scope || undefined,
  });
  const value = await token.save();
  ctx.body = {
    access_token: value,
    issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    token_type: 'Bearer',
    expires_in: token.expiration,
  };
}

provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  if (!ctx.oidc.params.subject_token_type) {
    throw new errors.InvalidRequest('missing required parameter subject_token_type');
  }
  await issue(ctx, ctx.oidc.params.subject_token);
}, ['subject_token', 'subject_token_type', 'audience', 'scope',
  'requested_token_type', 'actor_token', 'actor_token_type']);

provider.registerGrantType(JWT_BEARER, async (ctx) => {
  await issue(ctx, ctx.oidc.params.assertion);
}, ['assertion', 'scope']);

provider.use(async (ctx, next) => {
  const names = ctx.method === 'POST' ? null : [];
  await next();
  if (ctx.path !== '/token') return;
  const client = ctx.oidc?.client;
  console.log(JSON.stringify({
    status: ctx.status,
    client_id: client?.clientId ?? null,
    auth_method: client?.tokenEndpointAuthMethod ?? null,
    grant_type: ctx.oidc?.params?.grant_type ?? null,
    params: names ?? Object.keys(ctx.oidc?.body ?? {}).sort(),
    authorization: ctx.get('authorization') ? ctx.get('authorization').split(' ')[0] : null,
    error: ctx.status >= 400 ? ctx.body?.error ?? null : null,
  }));
});

const server = https.createServer({
  cert: readFileSync(cfg.cert),
  key: readFileSync(cfg.key),
  ca: readFileSync(cfg.clientCa),
  requestCert: true,
  rejectUnauthorized: false,
}, provider.callback());

server.listen(cfg.port, '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: cfg.port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
