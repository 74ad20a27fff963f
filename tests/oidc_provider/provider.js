// A real OpenID Provider on loopback for the sign-in tests: the certified `oidc-provider`
// package, with a minimal login interaction (password, and an optional one-time code that makes
// the sign-in multi-factor: amr ["pwd", "otp"] instead of ["pwd"]).
//
// Environment: PORT (the loopback port to listen on), ACCOUNTS_FILE (JSON object: account id ->
// {password, otp?, claims}), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI. The accounts file is read
// again at every sign-in, so a test can change a user's groups at the provider between two
// sign-ins. Prints "listening <issuer>" once it accepts connections.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { URLSearchParams } from 'node:url';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accountsFile = process.env.ACCOUNTS_FILE;

function accounts() {
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

const configuration = {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // Another application at the same provider: its tokens must not sign anyone in here.
    {
      client_id: 'other-app',
      client_secret: 'other-app-secret',
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: {
    // The authentication strength the login interaction recorded goes in every ID token.
    openid: ['sub', 'acr', 'amr'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
    agency: ['agency_ori'],
  },
  scopes: ['openid', 'profile', 'groups', 'agency'],
  acrValues: ['urn:test:pwd', 'urn:test:mfa'],
  cookies: { keys: ['test-only-cookie-key-not-secret'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  async findAccount(_ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        // Read again: a test may have changed the account since the sign-in began.
        return { sub: id, ...accounts()[id].claims };
      },
    };
  },
  // A first-party client: the scopes it asks for are granted without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'text/plain';
    ctx.body = `error: ${out.error}: ${out.error_description || ''}`;
  },
};

const provider = new Provider(issuer, configuration);
const handle = provider.callback();

function form(uid, message) {
  return `<!doctype html><title>Sign in</title><p>${message}</p>
<form method="post" action="/interaction/${uid}/login">
<input name="login"><input name="password" type="password"><input name="otp">
<button type="submit">Sign in</button></form>`;
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(form(details.uid, 'Sign in'));
    return;
  }
  const fields = await body(req);
  const id = fields.get('login') || '';
  const account = accounts()[id];
  if (!account || account.password !== fields.get('password')) {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(form(details.uid, 'wrong login or password'));
    return;
  }
  const otp = fields.get('otp') || '';
  const second = Boolean(account.otp) && otp === account.otp;
  const result = {
    login: {
      accountId: id,
      amr: second ? ['pwd', 'otp'] : ['pwd'],
      acr: second ? 'urn:test:mfa' : 'urn:test:pwd',
    },
  };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`interaction failed: ${err.message}`);
    });
    return;
  }
  handle(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
