// A real OpenID Connect provider on loopback for the social login tests: the certified
// `oidc-provider` package (npm, pinned in package.json), not a fake written here.
//
// Usage: node tests/social/oidc_server.mjs '{"jwks": {"keys": [<private JWK>]}}'
// It listens on 127.0.0.1 on a free port and prints one JSON line, {"issuer": "http://127.0.0.1:<port>"}.
// It exits when its standard input closes, so it never outlives the test session that started it
// (the signing key comes from the tests, which mint expired ID tokens with it).
//
// What the tests get from it, beyond the standard endpoints (discovery, /auth, /token, /jwks, /me):
// - Open dynamic client registration (POST /reg, RFC 7591): each test server registers its own
//   client with its own callback URL, and tests register other clients for "another audience".
// - An interaction that signs the test account in and grants consent at once, so a browser or an
//   HTTP client goes straight through: the account is the `login_hint` (default "alice"); the hint
//   "deny" makes the provider answer `access_denied` instead.
// - Accounts with a name, an email and a picture (served at /pictures/<id>.svg).
// - GET /debug_token in the shape of Facebook's Graph API endpoint, answered from the provider's own
//   access token store (which client the token was issued to, and whether it is still valid).

import http from "node:http";
import Provider from "oidc-provider";

const DEFAULT_ACCOUNT = "alice";

function claimsFor(issuer, id) {
  const first = id.charAt(0).toUpperCase() + id.slice(1);
  return {
    sub: id,
    name: `${first} Example`,
    given_name: first,
    family_name: "Example",
    email: `${id}@example.com`,
    email_verified: true,
    picture: `${issuer}/pictures/${encodeURIComponent(id)}.svg`,
  };
}

function pictureSvg(id) {
  const letter = (id.charAt(0) || "?").toUpperCase().replace(/[^A-Z0-9]/g, "?");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">` +
    `<rect width="64" height="64" rx="32" fill="#3b6ea8"/>` +
    `<text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff" font-family="sans-serif">${letter}</text></svg>`;
}

async function finishInteraction(provider, ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  const hint = typeof params.login_hint === "string" && params.login_hint ? params.login_hint : DEFAULT_ACCOUNT;
  if (hint === "deny") {
    const denied = { error: "access_denied", error_description: "The user declined to sign in." };
    await provider.interactionFinished(ctx.req, ctx.res, denied, { mergeWithLastSubmission: false });
    return;
  }
  const accountId = session?.accountId ?? hint;
  const result = {};
  if (prompt.name === "login") {
    result.login = { accountId };
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || "openid"));
  const missingClaims = prompt.details?.missingOIDCClaims;
  if (Array.isArray(missingClaims)) grant.addOIDCClaims(missingClaims);
  result.consent = { grantId: await grant.save() };
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
}

async function debugToken(provider, ctx) {
  const [appId, secret] = String(ctx.query.access_token || "").split("|");
  const client = appId ? await provider.Client.find(appId) : undefined;
  if (!client || client.clientSecret !== secret) {
    ctx.status = 400;
    ctx.body = { error: { message: "Invalid OAuth access token.", type: "OAuthException", code: 190 } };
    return;
  }
  const input = String(ctx.query.input_token || "");
  const token = input ? await provider.AccessToken.find(input) : undefined;
  ctx.body = token
    ? { data: { app_id: token.clientId, type: "USER", is_valid: !token.isExpired, user_id: token.accountId,
                expires_at: token.exp, scopes: [...token.scopes] } }
    : { data: { is_valid: false, error: { code: 190, message: "Invalid OAuth access token." } } };
}

async function main() {
  const config = JSON.parse(process.argv[2]);
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    jwks: config.jwks,
    clients: [],
    async findAccount(ctx, id) {
      return { accountId: id, async claims() { return claimsFor(issuer, id); } };
    },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "given_name", "family_name", "picture"],
    },
    // Like Google, put the profile claims into the ID token itself.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ["latchkey-tests-only-not-a-secret"] },
    pkce: { required: () => false },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600 },
  });
  provider.on("server_error", (ctx, err) => console.error("oidc-provider server_error:", err));

  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith("/interaction/")) {
      await finishInteraction(provider, ctx);
      ctx.respond = false;
      return;
    }
    if (ctx.path === "/debug_token") {
      await debugToken(provider, ctx);
      return;
    }
    const picture = ctx.path.match(/^\/pictures\/([^/]+)\.svg$/);
    if (picture) {
      ctx.type = "image/svg+xml";
      ctx.set("Cross-Origin-Resource-Policy", "cross-origin");
      ctx.body = pictureSvg(decodeURIComponent(picture[1]));
      return;
    }
    await next();
  });

  server.on("request", provider.callback());
  process.stdout.write(JSON.stringify({ issuer }) + "\n");
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
  process.stdin.resume();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
