// A real OpenID provider (npm's oidc-provider) on loopback for the hub's sign-in tests.
// node provider.js CONFIG.json — the config (tests/oidc_support.py writes it) names the port,
// the clients, the signing keys (JWKS) and the test accounts with their email_verified and amr.
// Interactions complete by themselves as the account chosen through /__test/account/<id>:
// no login form, so a test drives the flow with plain HTTP.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let current = config.default_account;

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  pkce: { required: () => true },
  claims: {
    acr: null, amr: null, auth_time: null, iss: null, sid: null,
    // acr and amr in the ID token always, as Entra ID and Okta put them there.
    openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'email'],
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Confirms the logout at once, so a browser test needs no click at the provider.
      logoutSource: async (ctx, form) => {
        ctx.body = `<!DOCTYPE html><html><body>${form}<script>document.forms[0].submit()</script></body></html>`;
      },
    },
  },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: account.email_verified };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // The hub under test listens on loopback, which oidc-provider's SSRF guard refuses to
  // reach; this provider only ever posts logout tokens to the test's own hub.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300 },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  const chosen = ctx.path.match(/^\/__test\/account\/([\w.-]+)$/);
  if (chosen) {
    current = chosen[1];
    ctx.body = { account: current };
    return;
  }
  if (ctx.path === '/__test/logout-token') {
    // The logout token the provider would post (as Client#backchannelLogout builds it), handed
    // to a test whose hub has no address the provider can reach.
    const url = new URL(ctx.href);
    const client = await provider.Client.find(url.searchParams.get('client_id'));
    const token = new provider.IdToken({ sub: url.searchParams.get('sub') }, { client, ctx: undefined });
    token.mask = { sub: null };
    token.set('events', { 'http://schemas.openid.net/event/backchannel-logout': {} });
    token.set('jti', randomUUID());
    if (url.searchParams.get('sid')) token.set('sid', url.searchParams.get('sid'));
    ctx.body = { logout_token: await token.issue({ use: 'logout' }) };
    return;
  }
  if (ctx.path === '/__test/backchannel-logout' && ctx.method === 'POST') {
    // Tells a client that the account's session at the provider ended, as a logout at the
    // provider or an administrator would: oidc-provider signs and posts the logout token.
    const url = new URL(ctx.href);
    const client = await provider.Client.find(url.searchParams.get('client_id'));
    try {
      await client.backchannelLogout(url.searchParams.get('sub'), url.searchParams.get('sid'));
      ctx.body = { sent: true };
    } catch (error) {
      ctx.status = 502;
      ctx.body = { error: String(error), cause: String(error.cause ?? '') };
    }
    return;
  }
  if (ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const account = config.accounts[current];
    let result;
    if (details.prompt.name === 'login') {
      result = { login: { accountId: current, amr: account.amr, ...(account.acr ? { acr: account.acr } : {}) } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope('openid email');
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    return;
  }
  await next();
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening at ${config.issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
